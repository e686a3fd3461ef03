// eval.ts: `treereward eval --model SPEC [--base SPEC] [--prompts FILE] [--n-per-dim 20] [--seeds 1]
// [--seed 0] [--reward DIR ...] [--flip-rate 0.1] [--tie-band 0.02] [--out DIR] [--json]`: evaluates a
// generator (a diffusion model directory, or world[:quality=Q] for the world renderer) on the
// fine-grained benchmark or a prompt file: the six judges, CLIP and aesthetic scores where the world
// CLIP exists, reward models' scores, and against --base the improvement (Table 3) and win / tie /
// loss by simulated experts (Fig. 7). With --out, the evaluation is kept as a run directory
// (resumable; `treereward report DIR` draws it).
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';

import { evaluate, EVALUATION_FILE } from '../eval/evaluation.js';
import { formatEvaluation } from '../eval/format-text.js';
import { parseGeneratorSpec } from '../eval/generator-spec.js';
import { benchmarkPrompts, loadPromptFile } from '../eval/prompts.js';
import type { GeneratorInfo } from '../eval/records.js';
import { defaultProviders, isMissing } from '../eval/run/providers.js';
import { openRun } from '../eval/run/demo.js';
import { writeManifest } from '../eval/run/run-dir.js';
import { evaluationTables } from '../eval/tables.js';
import { loadRewardModel } from '../reward/checkpoint.js';
import type { RewardModel } from '../reward/reward-model.js';
import { integer, positiveInt, progressBar } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface EvalCliOptions {
  model?: string;
  base?: string;
  prompts?: string;
  nPerDim?: string;
  seeds: string;
  seed: string;
  reward: string[];
  flipRate: string;
  tieBand: string;
  out?: string;
  json?: boolean;
}

function fraction(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new Error(`Expected a number in [0, 1] for ${name} but received ${JSON.stringify(value)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a generator on the fine-grained benchmark (judges, CLIP, aesthetic, rewards) and against a base (improvement, win / tie / loss)')
    .requiredOption('--model <spec>', 'a diffusion model directory, or world[:quality=Q] for the world renderer')
    .option('--base <spec>', 'the generator to compare with (same forms as --model)')
    .option('--prompts <file>', 'a prompt file: JSONL {"prompt", "dimension"} or plain text, one per line (default: the benchmark)')
    .option('--n-per-dim <n>', 'benchmark prompts per dimension, of 100 (default 20)')
    .option('--seeds <n>', 'image seeds per prompt', '1')
    .option('--seed <n>', "seed of the simulated experts' disagreement", '0')
    .option('--reward <dir>', 'a reward model directory whose scores to report (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--flip-rate <p>', "simulated experts' disagreement rate", '0.1')
    .option('--tie-band <d>', 'judge score difference below which experts call a tie', '0.02')
    .option('--out <dir>', 'keep the evaluation as a run directory (records, images for grids; rerun resumes)')
    .option('--json', 'print the tables as one JSON document')
    .action(async (opts: EvalCliOptions) => {
      if (opts.prompts !== undefined && opts.nPerDim !== undefined) throw new Error(`Expected either --prompts or --n-per-dim (which counts benchmark prompts) but received both`);
      const model = parseGeneratorSpec(opts.model ?? '', '--model');
      const base = opts.base === undefined ? undefined : parseGeneratorSpec(opts.base, '--base');
      const prompts = opts.prompts !== undefined ? loadPromptFile(opts.prompts) : benchmarkPrompts(opts.nPerDim === undefined ? 20 : positiveInt(opts.nPerDim, '--n-per-dim'));
      const seeds = Array.from({ length: positiveInt(opts.seeds, '--seeds') }, (_, i) => i);
      const expertSeed = integer(opts.seed, '--seed');
      const expert = { flipRate: fraction(opts.flipRate, '--flip-rate'), tieBand: fraction(opts.tieBand, '--tie-band'), seed: expertSeed };
      const generators: GeneratorInfo[] = [{ name: 'model', group: 'model', run: 0, spec: model.spec, label: model.label }];
      if (base) generators.push({ name: 'base', group: 'base', run: 0, spec: base.spec, label: base.label === model.label ? `${base.label} (base)` : base.label });
      const rewards: { name: string; model: RewardModel }[] = opts.reward.map((dir) => {
        const m = loadRewardModel(dir);
        return { name: basename(resolve(dir)) === 'model' ? basename(resolve(dir, '..', '..')) : basename(resolve(dir)), model: m };
      });
      const providers = defaultProviders();
      const clip = providers.clip();
      const runDir = opts.out === undefined ? undefined : resolve(opts.out);
      const promptSource = opts.prompts !== undefined ? `the prompt file ${opts.prompts}` : `the fixed benchmark (src/world/benchmark-prompts.json): the first ${prompts.length / 6} of 100 prompts per dimension`;
      const settings = { model: model.spec, base: base?.spec ?? null, prompts: promptSource, seeds: seeds.length, expert, rewards: opts.reward };
      if (runDir) openRun(runDir, 'eval', expertSeed, settings, `treereward ${process.argv.slice(2).join(' ')}`);
      const stop = new AbortController();
      const offSignals = onStopSignals(() => stop.abort());
      const bar = opts.json ? { update() {}, stop() {} } : progressBar('evaluate', 1);
      const t0 = Date.now();
      try {
        const e = await evaluate({
          runDir, generators, comparisons: base ? [['model', 'base']] : [], base: base ? 'base' : null,
          prompts, promptSource, seeds, expert, rewards,
          clip: isMissing(clip) ? undefined : clip, missing: isMissing(clip) ? { clip: clip.missing, aesthetic: clip.missing } : {},
          onProgress: (done, total) => bar.update(done, total), signal: stop.signal,
        });
        bar.stop();
        if (!isMissing(clip)) clip.dispose();
        const tables = evaluationTables(e.file, e.items, e.comparisonItems);
        if (runDir) {
          const m = openRun(runDir, 'eval', expertSeed, settings, '');
          m.stages = [{ name: 'evaluate', title: 'evaluation', status: 'done', seconds: (Date.now() - t0) / 1000, sittings: 1, finishedAt: new Date().toISOString(), summary: `${prompts.length} prompts x ${seeds.length} seeds x ${generators.length} generators`, outputs: { evaluation: EVALUATION_FILE, standIn: false } }];
          writeManifest(runDir, m);
        }
        if (opts.json) console.log(JSON.stringify({ ok: true, out: runDir ?? null, generators, prompts: e.file.prompts, seeds, missing: e.file.missing, tables, seconds: (Date.now() - t0) / 1000 }, null, 2));
        else {
          console.log(formatEvaluation(e.file, tables));
          console.log(`\n${((Date.now() - t0) / 1000).toFixed(1)} s${runDir ? `; kept in ${runDir} (treereward report ${opts.out} draws it)` : ''}`);
        }
      } finally {
        bar.stop();
        offSignals();
        for (const r of rewards) r.model.dispose();
      }
    });
}
