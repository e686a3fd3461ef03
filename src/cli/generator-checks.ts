// generator-checks.ts: what a trained world generator is checked and measured with (issue 7):
// `treereward pretrain judge-robustness --generator DIR [--pairs N] [--json]` (the judges' ranking
// accuracy before and after the generator's VAE round trip) and `treereward pretrain heldout-pairs
// --generator DIR --out STORE [--per-dimension N] [--json]` (the base generator's own samples on
// the benchmark prompts, labelled by the judges, as a test-split store for the reward models).
import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';

import { buildHeldoutPairs, recordHeldoutStore, type HeldoutSummary } from '../assets/heldout-pairs.js';
import { formatRobustness, measureJudgeRobustness } from '../assets/judge-robustness.js';
import { loadDiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { KlCodec } from '../diffusion/pipeline/components.js';
import { nonEmpty, positiveInt, progressBar } from './data-options.js';

function printHeldout(s: HeldoutSummary): void {
  console.log(`held-out pairs of ${s.generator}'s samples on the benchmark prompts in ${s.store} (test split, judged, tie margin ${s.tieMargin}): ${s.inserted} new`);
  for (const d of s.dimensions) console.log(`  ${d.dimension.padEnd(9)} ${d.pairs} pairs, ${d.ties} ties, mean judge-score gap ${d.meanGap.toFixed(3)}`);
}

export function register(program: Command): void {
  const pretrain = program.commands.find((c) => c.name() === 'pretrain')
    ?? program.command('pretrain').description("the world's pretrained models (assets/)");

  pretrain.command('judge-robustness')
    .description("the judges' ranking accuracy on clean vs degraded renders, raw and after the generator's VAE round trip (target 90%)")
    .requiredOption('--generator <dir>', 'a generator model directory (its VAE is used)')
    .option('--pairs <n>', 'pairs per dimension', '50')
    .option('--seed <n>', 'seed of the prompts and scenes', '0')
    .option('--out <file>', 'also write the report as JSON to this file')
    .option('--json', 'print the report as one JSON document')
    .action((opts: { generator?: string; pairs: string; seed: string; out?: string; json?: boolean }) => {
      const model = loadDiffusionModel(resolve(nonEmpty(opts.generator, '--generator')));
      try {
        const codec = model.models.vae;
        if (!(codec instanceof KlCodec)) throw new Error(`Expected a generator with an AutoencoderKL VAE for --generator but its VAE is a ${codec.constructor.name}`);
        const vae = codec.model;
        const bar = opts.json ? null : progressBar('dimensions', 6);
        const report = measureJudgeRobustness(vae, { pairs: positiveInt(opts.pairs, '--pairs'), seed: Number(opts.seed), onProgress: (d) => bar?.update(d) });
        bar?.stop();
        if (opts.out) writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else for (const line of formatRobustness(report)) console.log(line);
      } finally {
        model.dispose();
      }
    });

  pretrain.command('heldout-pairs')
    .description("the generator's own samples on the benchmark prompts, two per prompt, labelled by each dimension's judge, as a test-split store")
    .requiredOption('--generator <dir>', 'a generator model directory')
    .requiredOption('--out <dir>', 'the store to write (created if missing; a rerun adds nothing twice)')
    .option('--per-dimension <n>', 'benchmark prompts per dimension, one pair each', '40')
    .option('--seed <n>', 'seed of the samples', '0')
    .option('--steps <n>', "denoising steps (defaults to the model's)")
    .option('--record', "record the store's files in the manifest of the folder above --out (for a store made inside assets/)")
    .option('--json', 'print the summary as one JSON document')
    .action(async (opts: { generator?: string; out?: string; perDimension: string; seed: string; steps?: string; record?: boolean; json?: boolean }) => {
      const dir = resolve(nonEmpty(opts.generator, '--generator'));
      const out = resolve(nonEmpty(opts.out, '--out'));
      const per = positiveInt(opts.perDimension, '--per-dimension');
      const model = loadDiffusionModel(dir);
      try {
        const pipeline = model.pipeline();
        const bar = opts.json ? null : progressBar('samples', 12 * per);
        const summary = await buildHeldoutPairs(pipeline, out, {
          perDimension: per, seed: Number(opts.seed), generate: opts.steps ? { steps: positiveInt(opts.steps, '--steps') } : {},
          onProgress: (d) => bar?.update(d),
        });
        bar?.stop();
        const command = `treereward pretrain heldout-pairs --generator ${opts.generator} --out ${opts.out} --per-dimension ${per} --seed ${opts.seed}${opts.steps ? ` --steps ${opts.steps}` : ''}${opts.record ? ' --record' : ''}`;
        writeFileSync(join(out, 'heldout.json'), `${JSON.stringify({ ...summary, store: basename(out), command }, null, 2)}\n`);
        if (opts.record) recordHeldoutStore(out, summary, command, basename(dir));
        if (opts.json) console.log(JSON.stringify(summary, null, 2));
        else printHeldout(summary);
      } finally {
        model.dispose();
      }
    });
}
