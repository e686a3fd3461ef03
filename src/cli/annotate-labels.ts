// annotate-labels.ts: what people labelled, offline.
//   treereward annotate export --store DIR --out FILE [--kind pair|ab] [--json]: every label as JSON lines
//   treereward annotate resolve --store DIR [--min-votes N] [--json]: queued pairs with enough labels
//     become labelled pairs by majority (the store's resolveAnnotations), ready for training
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { labelLines } from '../annotate/label-export.js';
import { nonEmpty, oneOf, openExistingStore, positiveInt } from './data-options.js';
import { annotateCommand } from './annotate.js';

export function register(program: Command): void {
  const annotate = annotateCommand(program);
  annotate
    .command('export')
    .description('write every label people gave (pairs and A/B sets) as JSON lines')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .requiredOption('--out <file>', 'the JSONL file to write')
    .option('--kind <kind>', 'only pair or only ab labels')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: { store?: string; out?: string; kind?: string; json?: boolean }) => {
      const out = nonEmpty(opts.out, '--out');
      const kind = opts.kind === undefined ? undefined : oneOf(opts.kind, ['pair', 'ab'] as const, '--kind');
      const store = openExistingStore(opts.store);
      let lines = 0;
      try {
        const file = createWriteStream(out, { encoding: 'utf8' });
        for (const line of labelLines(store, { kind })) {
          if (!file.write(`${line}\n`)) await once(file, 'drain');
          lines++;
        }
        file.end();
        await once(file, 'close');
      } finally {
        store.close();
      }
      console.log(opts.json ? JSON.stringify({ out, labels: lines }) : `wrote ${lines} labels to ${out}`);
    });

  annotate
    .command('resolve')
    .description('turn queued pairs with at least --min-votes labels into labelled pairs, by majority')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .option('--min-votes <n>', 'labels (not skips) a pair needs', '1')
    .option('--json', 'print the result as one JSON document')
    .action((opts: { store?: string; minVotes: string; json?: boolean }) => {
      const minVotes = positiveInt(opts.minVotes, '--min-votes');
      const store = openExistingStore(opts.store);
      try {
        const r = store.resolveAnnotations({ minVotes });
        console.log(opts.json ? JSON.stringify({ ...r, minVotes }) : `resolved ${r.resolved} pairs (${r.ties} ties) from annotations with at least ${minVotes} vote(s)`);
      } finally {
        store.close();
      }
    });
}
