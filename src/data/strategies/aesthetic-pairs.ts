// aesthetic-pairs.ts: the paper's strategies for the aesthetic dimensions (color, lighting, layout,
// detail). Candidate pairs come from three sources, each giving a likely-better and a likely-worse
// image of the same prompt and seed:
//   trigger-words      the prompt with the dimension's trigger phrase vs without (weak generator)
//   generator-quality  a stronger vs a weaker generator
//   denoising-steps    more vs fewer denoising steps
// No rule decides these: an annotator (a simulated expert) picks the preferred one, or, without one,
// the pair goes to the annotation queue. Both sides carry the plain prompt.
import type { Dimension, GenerateOptions, Generator } from '../../api/interfaces.js';
import { vocabulary } from '../../world/vocabulary/index.js';
import { Rng, deriveSeed } from '../../world/random.js';
import type { PairAnnotator, StrategyOutput } from './types.js';
import { annotatorDecided, checkBatch } from './labelling.js';

export const AESTHETIC_DIMENSIONS = ['color', 'lighting', 'layout', 'detail'] as const;
export type AestheticDimension = (typeof AESTHETIC_DIMENSIONS)[number];

export const PAIR_SOURCES = ['trigger-words', 'generator-quality', 'denoising-steps'] as const;
export type PairSource = (typeof PAIR_SOURCES)[number];

export interface AestheticPairOptions {
  dimension: AestheticDimension;
  generator: Generator;
  prompts: readonly string[];
  seeds: readonly number[];
  /** Sources, used in turn. Defaults to all three. */
  sources?: readonly PairSource[];
  /** Quality of the weaker generator, drawn per pair from this range. Defaults to [0.3, 0.9]. */
  weakQuality?: readonly [number, number];
  /** Steps of the many-step and few-step samples. Defaults to 50 and a draw from [8, 40]. */
  manySteps?: number;
  fewSteps?: readonly [number, number];
  /** Extra options for every render (size, signal). */
  generate?: GenerateOptions;
  /** Decides each pair; without one the pairs are queued. */
  annotator?: PairAnnotator;
}

export function triggerPhrase(dimension: Dimension): string {
  const t = vocabulary().triggers.find((w) => w.dimension === dimension);
  if (!t) throw new Error(`Expected a dimension with a trigger phrase for dimension but received ${JSON.stringify(dimension)}`);
  return t.phrase;
}

interface Candidate {
  prompt: string;
  seed: number;
  source: PairSource;
  /** Prompt and options of the likely-better and likely-worse render. */
  better: { prompt: string; options: GenerateOptions };
  worse: { prompt: string; options: GenerateOptions };
}

export async function aestheticPairs(options: AestheticPairOptions): Promise<StrategyOutput> {
  const { dimension, generator, prompts, seeds } = options;
  checkBatch(prompts, seeds, 'aestheticPairs');
  if (!(AESTHETIC_DIMENSIONS as readonly string[]).includes(dimension)) {
    throw new Error(`Expected one of ${AESTHETIC_DIMENSIONS.join(', ')} for dimension but received ${JSON.stringify(dimension)}`);
  }
  const sources = options.sources ?? PAIR_SOURCES;
  const [qLo, qHi] = options.weakQuality ?? [0.3, 0.9];
  const [sLo, sHi] = options.fewSteps ?? [8, 40];
  const many = options.manySteps ?? 50;
  // Tell generators that can degrade one dimension at a time (the world) which one; others ignore it.
  const base: GenerateOptions = { ...options.generate, degrade: [dimension] };
  const trigger = triggerPhrase(dimension);
  const candidates: Candidate[] = prompts.map((prompt, i) => {
    const seed = seeds[i]!;
    const rng = new Rng(deriveSeed(seed, `aesthetic:${dimension}`));
    const source = sources[i % sources.length]!;
    const weak = { ...base, quality: rng.float(qLo, qHi) };
    switch (source) {
      case 'trigger-words':
        return { prompt, seed, source, better: { prompt: `${prompt}, ${trigger}`, options: weak }, worse: { prompt, options: weak } };
      case 'generator-quality':
        return { prompt, seed, source, better: { prompt, options: { ...base, quality: 1 } }, worse: { prompt, options: weak } };
      case 'denoising-steps':
        return { prompt, seed, source, better: { prompt, options: { ...base, steps: many } }, worse: { prompt, options: { ...base, steps: rng.int(sLo, sHi + 1) } } };
    }
  });
  const out: StrategyOutput = { pairs: [], queued: [] };
  for (const c of candidates) {
    const [better] = await generator.generate([c.better.prompt], [c.seed], c.better.options);
    const [worse] = await generator.generate([c.worse.prompt], [c.seed], c.worse.options);
    // Which side is shown first is drawn from the seed, so annotators cannot learn "first wins".
    const swap = new Rng(deriveSeed(c.seed, 'side')).chance(0.5);
    const a = { prompt: c.prompt, image: better! };
    const b = { prompt: c.prompt, image: worse! };
    const { pair, queued } = annotatorDecided(dimension, swap ? b : a, swap ? a : b, c.source, c.seed, options.annotator);
    if (pair) out.pairs.push(pair);
    if (queued) out.queued.push(queued);
  }
  return out;
}
