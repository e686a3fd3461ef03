// build-world-pairs.ts: a feedback dataset from the synthetic world with every strategy: content
// re-captioning, style substitution, and the aesthetic sources decided by simulated experts, in equal
// shares per dimension, on training prompts (never benchmark prompts); optionally a share of each
// dimension's pairs from a text-to-image model's own samples, decided by the experts (model-samples.ts). Each record carries a `key`
// naming its slot, so a rerun into the same store can skip what is already there.
import { DIMENSIONS } from '../../api/interfaces.js';
import type { Dimension, GenerateOptions, Generator } from '../../api/interfaces.js';
import { WorldGenerator } from '../../world/world-generator.js';
import { SimulatedExpert } from '../../world/expert.js';
import type { ExpertOptions } from '../../world/expert.js';
import { WORLD_JUDGES } from '../../world/judges/index.js';
import { trainingPrompt } from '../../world/benchmark.js';
import { Rng, deriveSeed } from '../../world/random.js';
import type { PairVerifier, PreferencePair } from './types.js';
import { styleSubstitutionPairs } from './style-substitution.js';
import { contentRecaptionPairs } from './content-recaption.js';
import { aestheticPairs, type AestheticDimension } from './aesthetic-pairs.js';
import { modelSamplePairs } from './model-samples.js';

export type WorldPair = PreferencePair & { key: string };

export interface BuildWorldPairsOptions {
  /** Pairs in all, split evenly over the six dimensions. */
  pairs: number;
  /** Defaults to 0. */
  seed?: number;
  /** Image size. Defaults to 64. */
  size?: number;
  /** Simulated experts' disagreement and tie band. Defaults: flipRate 0.1, tieBand 0.02. */
  expert?: Omit<ExpertOptions, 'judges'>;
  /** Defaults to the world generator. */
  generator?: Generator;
  /**
   * A model whose own samples make `share` (in [0, 1]) of each dimension's pairs, first, keyed
   * "world:<seed>:<dim>:samples:<i>"; the renderer's strategies make the rest.
   */
  samples?: { generator: Generator; share: number; generate?: GenerateOptions };
  /** Pairs per strategy call (and per chunk yielded). Defaults to 16. */
  chunk?: number;
  /** Skip slots whose key is already stored (resuming). */
  skip?: (key: string) => boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** How many of `total` pairs each dimension gets (as even as possible, in DIMENSIONS order). */
export function dimensionQuotas(total: number): Record<Dimension, number> {
  const out = {} as Record<Dimension, number>;
  DIMENSIONS.forEach((d, i) => (out[d] = Math.floor(total / DIMENSIONS.length) + (i < total % DIMENSIONS.length ? 1 : 0)));
  return out;
}

function slotSeed(seed: number, dim: Dimension, index: number): number {
  return deriveSeed(seed, `${dim}:image:${index}`) & 0x7fffffff;
}

/** Yields the dataset chunk by chunk (each chunk one strategy call's pairs, with keys). */
export async function* worldPairChunks(options: BuildWorldPairsOptions): AsyncGenerator<WorldPair[]> {
  const seed = options.seed ?? 0;
  const chunk = options.chunk ?? 16;
  const generator = options.generator ?? new WorldGenerator({ size: options.size ?? 64 });
  const expert = new SimulatedExpert({ ...options.expert, seed: deriveSeed(seed, 'expert') });
  const verifier: PairVerifier = { judges: WORLD_JUDGES, tieBand: options.expert?.tieBand };
  const quotas = dimensionQuotas(options.pairs);
  let done = 0;
  const report = (n: number) => {
    done += n;
    options.onProgress?.(done, options.pairs);
  };
  const skip = options.skip ?? (() => false);
  const share = options.samples?.share ?? 0;
  if (!(share >= 0 && share <= 1)) throw new Error(`Expected a number in [0, 1] for samples.share but received ${share}`);
  for (const dim of DIMENSIONS) {
    const quota = quotas[dim];
    let made = 0;
    // The model's own samples: one pair per slot, every one decided by the experts.
    const sampleQuota = options.samples ? Math.round(quota * share) : 0;
    for (let start = 0; start < sampleQuota; start += chunk) {
      if (options.signal?.aborted) throw new Error('Expected the build to run to the end but it was aborted (signal)');
      const all = Array.from({ length: Math.min(chunk, sampleQuota - start) }, (_, k) => start + k);
      const key = (i: number) => `world:${seed}:${dim}:samples:${i}`;
      const slots = all.filter((i) => !skip(key(i)));
      made += all.length - slots.length;
      report(all.length - slots.length);
      if (slots.length === 0) continue;
      const seeds = slots.map((i) => deriveSeed(seed, `${dim}:samples:image:${i}`) & 0x7fffffff);
      const { pairs } = await modelSamplePairs({
        dimension: dim, generator: options.samples!.generator, generate: options.samples!.generate, annotator: expert,
        prompts: slots.map((i) => trainingPrompt(dim, deriveSeed(seed, `${dim}:samples:prompt:${i}`))), seeds,
      });
      const keyed = pairs.map((p) => ({ ...p, key: key(slots[seeds.indexOf(p.seed)]!) }));
      made += keyed.length;
      report(keyed.length);
      if (keyed.length > 0) yield keyed;
    }
    // Content keeps drawing until it has found enough misaligned images (not every image is).
    const maxSlots = dim === 'content' ? 40 * quota + 40 : quota;
    for (let start = 0; made < quota && start < maxSlots; start += chunk) {
      if (options.signal?.aborted) throw new Error('Expected the build to run to the end but it was aborted (signal)');
      const all = Array.from({ length: Math.min(chunk, maxSlots - start) }, (_, k) => start + k);
      // Slots already stored (a resumed build) count as made; the others are (re)generated.
      const stored = Math.min(quota - made, all.filter((i) => skip(`world:${seed}:${dim}:${i}`)).length);
      made += stored;
      report(stored);
      const slots = all.filter((i) => !skip(`world:${seed}:${dim}:${i}`));
      if (made >= quota || slots.length === 0) continue;
      const prompts = slots.map((i) => trainingPrompt(dim, deriveSeed(seed, `${dim}:prompt:${i}`)));
      const seeds = slots.map((i) => slotSeed(seed, dim, i));
      let pairs: PreferencePair[];
      if (dim === 'content') {
        // A weak generator gets objects wrong; how weak varies per image.
        const quality = new Rng(deriveSeed(seed, `content:quality:${start}`)).float(0.15, 0.6);
        pairs = (await contentRecaptionPairs({ generator, prompts, seeds, generate: { quality, degrade: ['content'] }, verifier })).pairs;
      } else if (dim === 'style') {
        pairs = (await styleSubstitutionPairs({ generator, prompts, seeds, verifier })).pairs;
      } else {
        pairs = (await aestheticPairs({ dimension: dim as AestheticDimension, generator, prompts, seeds, annotator: expert })).pairs;
      }
      const keyed: WorldPair[] = [];
      for (const p of pairs) {
        if (made >= quota) break;
        const slot = slots[seeds.indexOf(p.seed)]!;
        keyed.push({ ...p, key: `world:${seed}:${dim}:${slot}` });
        made++;
      }
      report(keyed.length);
      if (keyed.length > 0) yield keyed;
    }
    if (made < quota) throw new Error(`Expected ${quota} ${dim} pairs but the strategy found only ${made} in ${maxSlots} tries`);
  }
}

/** The whole dataset as one list (for tests and small builds; the CLI streams the chunks). */
export async function buildWorldPairs(options: BuildWorldPairsOptions): Promise<WorldPair[]> {
  const out: WorldPair[] = [];
  for await (const chunk of worldPairChunks(options)) out.push(...chunk);
  return out;
}
