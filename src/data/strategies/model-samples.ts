// model-samples.ts: pairs of a text-to-image model's own samples, the source the paper's dataset
// starts from (images generated for a prompt, compared by an expert in one dimension). Two samples of
// each prompt with different seeds; the annotator says which is better in the dimension, or a tie.
// Without an annotator the pairs are queued for people (the annotation app).
//
// The other strategies build pairs from one renderer's clean and spoilt images; a reward model that
// ReFL will steer must also rank what the generator being tuned actually draws, whose mistakes look
// different (blurred shapes, drifting colors), so this strategy shows it those.
import type { Dimension, GenerateOptions, Generator, RgbImage } from '../../api/interfaces.js';
import { deriveSeed } from '../../world/random.js';
import { annotatorDecided, checkBatch } from './labelling.js';
import type { PairAnnotator, StrategyOutput } from './types.js';

export const MODEL_SAMPLES = 'model-samples';

export interface ModelSamplePairOptions {
  dimension: Dimension;
  generator: Generator;
  prompts: readonly string[];
  /** One per prompt; the two samples use seeds derived from it. */
  seeds: readonly number[];
  annotator?: PairAnnotator;
  /** The generator's call options (denoising steps, guidance). */
  generate?: GenerateOptions;
}

/** The two sample seeds of a pair's seed. */
export function sampleSeeds(seed: number): [number, number] {
  return [deriveSeed(seed, 'model-samples:a') & 0x7fffffff, deriveSeed(seed, 'model-samples:b') & 0x7fffffff];
}

export async function modelSamplePairs(options: ModelSamplePairOptions): Promise<StrategyOutput> {
  const { dimension, generator, prompts, seeds } = options;
  checkBatch(prompts, seeds, 'modelSamplePairs');
  const both = seeds.map(sampleSeeds);
  const a: RgbImage[] = await generator.generate([...prompts], both.map((s) => s[0]), options.generate);
  const b: RgbImage[] = await generator.generate([...prompts], both.map((s) => s[1]), options.generate);
  const out: StrategyOutput = { pairs: [], queued: [] };
  prompts.forEach((prompt, i) => {
    const r = annotatorDecided(dimension, { prompt, image: a[i]! }, { prompt, image: b[i]! }, MODEL_SAMPLES, seeds[i]!, options.annotator);
    if (r.pair) out.pairs.push(r.pair);
    if (r.queued) out.queued.push(r.queued);
  });
  return out;
}
