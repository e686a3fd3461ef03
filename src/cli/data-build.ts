// data-build.ts: `treereward data build --world --pairs N --out DIR [--seed S] [--size 64]
// [--flip-rate 0.1] [--tie-band 0.02] [--samples-from DIR [--samples-share 0.5]] [--json]`: builds a
// feedback dataset in the synthetic world with every pair strategy (content re-captioning, style
// substitution, aesthetic pairs decided by simulated experts; with --samples-from, a share of pairs
// of that model's own samples, decided by the experts) and stores it. Each chunk is stored in one transaction as it is made, with a key per slot:
// an interrupted build resumes where it stopped when run again with the same arguments.
import type { Command } from 'commander';
import { FeedbackStore } from '../data/store/feedback-store.js';
import { worldPairChunks, dimensionQuotas } from '../data/strategies/build-world-pairs.js';
import { openGenerator, parseGeneratorSpec, type OpenedGenerator } from '../eval/generator-spec.js';
import { dataCommand, integer, nonEmpty, positiveInt, progressBar } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface BuildCliOptions {
  world?: boolean;
  pairs?: string;
  out?: string;
  seed: string;
  size: string;
  flipRate: string;
  tieBand: string;
  samplesFrom?: string;
  samplesShare: string;
  json?: boolean;
}

function fraction(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new Error(`Expected a number in [0, 1] for ${name} but received ${JSON.stringify(value)}`);
  return x;
}

export function register(program: Command): void {
  dataCommand(program)
    .command('build')
    .description('build a feedback dataset with the pair strategies and store it')
    .option('--world', 'build in the synthetic world (the only source for now)')
    .requiredOption('--pairs <n>', 'pairs in all, split evenly over the six dimensions')
    .requiredOption('--out <dir>', 'the feedback store directory (created if missing; a rerun resumes)')
    .option('--seed <n>', 'seed of prompts, images and expert noise', '0')
    .option('--size <px>', 'image size', '64')
    .option('--flip-rate <p>', "simulated experts' disagreement rate", '0.1')
    .option('--tie-band <d>', 'judge score difference below which experts call a tie', '0.02')
    .option('--samples-from <dir>', "a text-to-image model directory (e.g. assets/world-generator) whose own samples make a share of each dimension's pairs")
    .option('--samples-share <x>', "share of each dimension's pairs from --samples-from", '0.5')
    .option('--json', 'print the report as one JSON document')
    .action(async (opts: BuildCliOptions) => {
      if (!opts.world) throw new Error('Expected --world (the synthetic world is the only dataset source) for data build but received no source');
      const pairs = positiveInt(opts.pairs, '--pairs');
      const seed = integer(opts.seed, '--seed');
      const size = positiveInt(opts.size, '--size');
      const flipRate = fraction(opts.flipRate, '--flip-rate');
      const tieBand = fraction(opts.tieBand, '--tie-band');
      const samplesShare = fraction(opts.samplesShare, '--samples-share');
      const sampler: OpenedGenerator | null = opts.samplesFrom !== undefined ? await openGenerator(parseGeneratorSpec(opts.samplesFrom, '--samples-from')) : null;
      const store = FeedbackStore.open(nonEmpty(opts.out, '--out'));
      const bar = progressBar('build world pairs', pairs);
      const t0 = Date.now();
      let inserted = 0;
      let duplicates = 0;
      const stop = new AbortController();
      const offSignals = onStopSignals(() => stop.abort());
      try {
        for await (const chunk of worldPairChunks({
          pairs, seed, size, expert: { flipRate, tieBand },
          ...(sampler ? { samples: { generator: sampler.generator, share: samplesShare, generate: { size, ...sampler.options } } } : {}),
          skip: (key) => store.pairIdByKey(key) !== undefined,
          onProgress: (done) => bar.update(done),
          signal: stop.signal,
        })) {
          const r = await store.insertPairs(chunk);
          inserted += r.inserted;
          duplicates += r.duplicates;
        }
      } finally {
        offSignals();
        bar.stop();
        store.close();
        sampler?.dispose();
      }
      const report = { ok: true, out: opts.out, pairs, samplesFrom: opts.samplesFrom ?? null, samplesShare: sampler ? samplesShare : 0, inserted, alreadyStored: pairs - inserted, duplicates, perDimension: dimensionQuotas(pairs), seed, seconds: (Date.now() - t0) / 1000 };
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else console.log(`stored ${inserted} new world pairs in ${opts.out} (${pairs - inserted} already there), ${report.seconds.toFixed(1)} s`);
    });
}
