// annotate-ab.ts: A/B sets for the user study (the paper's Fig. 7).
//   treereward annotate ab-import --store DIR (--a DIR_A --b DIR_B | --jsonl FILE) [--name SET]
//     [--model-a NAME] [--model-b NAME] [--labels-per-item N] [--json]
//   treereward annotate ab-summary --store DIR --set SET [--json]
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { readAbFolders, readAbJsonl } from '../annotate/ab-import.js';
import { addAbSet } from '../annotate/ab-sets.js';
import { abSummary, type AbSummary, type WinTieLoss } from '../annotate/ab-summary.js';
import { nonEmpty, openExistingStore, percent, positiveInt } from './data-options.js';
import { annotateCommand } from './annotate.js';

interface ImportOptions {
  store?: string;
  a?: string;
  b?: string;
  jsonl?: string;
  name?: string;
  modelA?: string;
  modelB?: string;
  labelsPerItem?: string;
  json?: boolean;
}

const wtl = (t: WinTieLoss): string => `win ${t.win} (${percent(t.winRate)}), tie ${t.tie} (${percent(t.tieRate)}), loss ${t.loss} (${percent(t.lossRate)})${t.skip ? `, ${t.skip} skipped` : ''}`;

function summaryText(s: AbSummary): string {
  const out = [
    `A/B set ${s.set}: ${s.modelA} (A) vs ${s.modelB} (B); ${s.items} prompts, ${s.labelledItems} labelled, by ${s.annotators.length} annotator(s)`,
    `  labels:     ${wtl(s.overall)}`,
    `  by prompt:  ${wtl(s.byPrompt)} (majority per prompt)`,
  ];
  for (const d of s.byDimension) out.push(`  ${(d.dimension ?? 'overall').padEnd(10)}  ${wtl(d)}`);
  for (const a of s.byAnnotator) out.push(`  annotator ${a.annotator}: ${wtl(a)}`);
  return out.join('\n');
}

export function register(program: Command): void {
  const annotate = annotateCommand(program);
  annotate
    .command('ab-import')
    .description('make (or add to) an A/B set from two model folders with prompts.jsonl ({prompt, image, dimension?, key?} per line) or one JSONL of {prompt, a, b, dimension?, key?}')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .option('--a <dir>', "model A's folder")
    .option('--b <dir>', "model B's folder")
    .option('--jsonl <file>', 'one file of {prompt, a, b} lines instead of two folders')
    .option('--name <set>', 'the set name (default: MODEL_A-vs-MODEL_B)')
    .option('--model-a <name>', "model A's name (default: its folder's name, or A)")
    .option('--model-b <name>', "model B's name (default: its folder's name, or B)")
    .option('--labels-per-item <n>', 'labels wanted per prompt from different annotators (default: every annotator labels every prompt)')
    .option('--json', 'print one JSON document')
    .action(async (opts: ImportOptions) => {
      const folders = opts.a !== undefined || opts.b !== undefined;
      if (folders === (opts.jsonl !== undefined)) throw new Error(`Expected either --a and --b, or --jsonl, for the items but received ${folders ? 'both' : 'neither'}`);
      const read = folders ? readAbFolders(nonEmpty(opts.a, '--a'), nonEmpty(opts.b, '--b')) : readAbJsonl(nonEmpty(opts.jsonl, '--jsonl'));
      if (read.items.length === 0) throw new Error('Expected at least one prompt in both lists for the items but received none that match');
      const modelA = opts.modelA ?? (folders ? basename(resolve(opts.a!)) : 'A');
      const modelB = opts.modelB ?? (folders ? basename(resolve(opts.b!)) : 'B');
      const labelsPerItem = opts.labelsPerItem === undefined ? null : positiveInt(opts.labelsPerItem, '--labels-per-item');
      const store = openExistingStore(opts.store);
      try {
        const r = await addAbSet(store, { name: opts.name ?? `${modelA}-vs-${modelB}`, modelA, modelB, labelsPerItem, items: read.items });
        const result = { set: r.set, inserted: r.inserted, duplicates: r.duplicates, onlyInA: read.onlyInA, onlyInB: read.onlyInB };
        if (opts.json) {
          console.log(JSON.stringify(result, null, 2));
        } else {
          console.log(`A/B set ${r.set.name}: ${r.inserted} prompts added (${r.duplicates} already there), ${r.set.items} in all; ${r.set.modelA} (A) vs ${r.set.modelB} (B)`);
          if (read.onlyInA.length || read.onlyInB.length) {
            console.log(`  not imported: ${read.onlyInA.length} prompts only in A, ${read.onlyInB.length} only in B`);
            for (const k of [...read.onlyInA.slice(0, 5).map((k) => `A: ${k}`), ...read.onlyInB.slice(0, 5).map((k) => `B: ${k}`)]) console.log(`    ${k}`);
          }
        }
      } finally {
        store.close();
      }
    });

  annotate
    .command('ab-summary')
    .description('win / tie / loss of model A against model B: overall, per prompt, per dimension, per annotator')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .requiredOption('--set <name>', 'the A/B set')
    .option('--json', 'print one JSON document')
    .action((opts: { store?: string; set?: string; json?: boolean }) => {
      const store = openExistingStore(opts.store);
      try {
        const s = abSummary(store, nonEmpty(opts.set, '--set'));
        console.log(opts.json ? JSON.stringify(s, null, 2) : summaryText(s));
      } finally {
        store.close();
      }
    });
}
