// heldout-pairs.ts: a held-out test set of the base generator's own samples, labelled by the judges
// (issue 7, for the reward issues). The reward models learn from pairs the data strategies build
// out of the renderer; what ReFL shows them is the generator's output, so they are also tested on
// that. For each dimension, the fixed benchmark's prompts (never training prompts), two samples of
// each from the generator with different seeds, and that dimension's judge saying which is better:
// a tie where the two scores are within `tieMargin`. Every pair lands in the store's test split.
import path from 'node:path';

import { DIMENSIONS, type Dimension, type Generator, type RgbImage } from '../api/interfaces.js';
import { FeedbackStore } from '../data/store/index.js';
import type { PairInput } from '../data/types.js';
import { loadBenchmark } from '../world/benchmark.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { deriveSeed } from '../world/random.js';
import { checkAssetsBudget, codeVersion, filesUnder, folderBytes, recordAsset, type ManifestEntry } from './asset-files.js';
import { machineDescription } from './ship.js';

export const HELDOUT_STRATEGY = 'base-generator-samples';
export const HELDOUT_ANNOTATOR = 'judges';

export interface HeldoutOptions {
  /** Benchmark prompts per dimension (at most 100), one pair each. Defaults to 40. */
  perDimension?: number;
  /** Judge-score gap below which a pair is a tie. Defaults to 0.02. */
  tieMargin?: number;
  /** Seeds the samples. Defaults to 0. */
  seed?: number;
  /** The generator's call options (denoising steps, guidance). */
  generate?: Record<string, unknown>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface HeldoutSummary {
  format: 'treereward-heldout-pairs/1';
  generator: string;
  store: string;
  perDimension: number;
  tieMargin: number;
  seed: number;
  generate: Record<string, unknown>;
  /** Per dimension: pairs written, ties among them, and the mean score gap between the two samples. */
  dimensions: { dimension: Dimension; pairs: number; ties: number; meanGap: number }[];
  inserted: number;
  seconds: number;
}

/**
 * Writes the held-out pairs into the store at `storeDir` (created with every prompt in the test split).
 * Rerunning adds nothing twice (each pair has a key).
 */
export async function buildHeldoutPairs(generator: Generator, storeDir: string, options: HeldoutOptions = {}): Promise<HeldoutSummary> {
  const t0 = performance.now();
  const per = options.perDimension ?? 40, margin = options.tieMargin ?? 0.02, seed = options.seed ?? 0;
  if (!Number.isInteger(per) || per < 1 || per > 100) throw new Error(`Expected an integer in [1, 100] for perDimension but received ${per}`);
  if (!(margin >= 0 && margin < 1)) throw new Error(`Expected a number in [0, 1) for tieMargin but received ${margin}`);
  const benchmark = loadBenchmark();
  const store = FeedbackStore.open(storeDir, { splitFractions: { train: 0, validation: 0, test: 1 } });
  const dimensions: HeldoutSummary['dimensions'] = [];
  let inserted = 0, done = 0;
  try {
    for (const dim of DIMENSIONS) {
      const prompts = benchmark.prompts[dim].slice(0, per);
      const seedsA = prompts.map((_, i) => deriveSeed(seed, `heldout:${dim}:${i}:a`) & 0x7fffffff);
      const seedsB = prompts.map((_, i) => deriveSeed(seed, `heldout:${dim}:${i}:b`) & 0x7fffffff);
      const a: RgbImage[] = await generator.generate(prompts, seedsA, { ...options.generate, signal: options.signal });
      options.onProgress?.((done += prompts.length), 2 * per * DIMENSIONS.length);
      const b: RgbImage[] = await generator.generate(prompts, seedsB, { ...options.generate, signal: options.signal });
      options.onProgress?.((done += prompts.length), 2 * per * DIMENSIONS.length);
      const judge = WORLD_JUDGES[dim];
      const records: PairInput[] = [];
      let ties = 0, gap = 0;
      for (let i = 0; i < prompts.length; i++) {
        const sa = judge.score(a[i]!, prompts[i]!) as number, sb = judge.score(b[i]!, prompts[i]!) as number;
        const tie = Math.abs(sa - sb) < margin;
        ties += tie ? 1 : 0;
        gap += Math.abs(sa - sb) / prompts.length;
        const [win, lose] = sa >= sb ? [a[i]!, b[i]!] : [b[i]!, a[i]!];
        records.push({
          dimension: dim, strategy: HELDOUT_STRATEGY, annotator: HELDOUT_ANNOTATOR, tie, cleanLabel: tie ? 'tie' : 'preferred',
          preferred: { prompt: prompts[i]!, image: win }, rejected: { prompt: prompts[i]!, image: lose },
          seed: seedsA[i], key: `${HELDOUT_STRATEGY}:${generator.name}:${seed}:${dim}:${i}`,
        });
      }
      inserted += (await store.insertPairs(records)).inserted;
      dimensions.push({ dimension: dim, pairs: prompts.length, ties, meanGap: gap });
    }
  } finally {
    store.close();
  }
  return {
    format: 'treereward-heldout-pairs/1', generator: generator.name, store: storeDir, perDimension: per, tieMargin: margin, seed,
    generate: options.generate ?? {}, dimensions, inserted, seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Enters a held-out store made inside an assets folder (storeDir = assets/<name>) into that folder's
 * manifest: every file but SQLite's journals, with the command that made it. assets/ must stay
 * within its budget.
 */
export function recordHeldoutStore(storeDir: string, summary: HeldoutSummary, command: string, generator: string): ManifestEntry {
  const assets = path.dirname(storeDir), name = path.basename(storeDir);
  const bytes = folderBytes(storeDir);
  checkAssetsBudget(assets, name, bytes, bytes);
  const files = filesUnder(storeDir).filter((f) => !/-(wal|shm|journal)$/.test(f)).map((f) => `${name}/${f}`);
  return recordAsset(assets, name, files, {
    command, seed: summary.seed, codeVersion: codeVersion(), trainingSeconds: summary.seconds, machine: machineDescription(),
    kind: 'feedback store (test split)', generator, perDimension: summary.perDimension, dimensions: summary.dimensions,
  });
}
