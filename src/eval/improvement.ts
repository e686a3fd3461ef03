// improvement.ts: per-dimension improvement of a tuned generator over its base on the judges, on
// the paper's [-5, 5] scale (its Table 3). Our rescaling: for each prompt and seed the tuned and the
// base image are scored by dimension d's judge (in [0, 1]) and the improvement is
//     I_d = 5 * mean over prompts stressing d of (J_d(tuned image) - J_d(base image)),
// so +5 is "every image went from the worst to the best score", 0 is no change and -5 the reverse.
// The spread is over the tuned group's training seeds (or over image seeds for a group of one).
import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import type { EvalItem, GeneratorInfo } from './records.js';
import { itemsFor, summariseBy, unitsOf } from './summary.js';
import { overSeeds, type SeedSummary } from './stats.js';

export const IMPROVEMENT_SCALE = 5;

export interface Improvement {
  tuned: string;
  base: string;
  perDimension: Record<Dimension, SeedSummary>;
  /** The mean over the six dimensions. */
  mean: SeedSummary;
  /** Matched (prompt, seed) pairs per run. */
  pairs: number;
}

const key = (i: Pick<EvalItem, 'prompt' | 'dimension' | 'seed'>): string => `${i.dimension ?? ''}\u0000${i.prompt}\u0000${i.seed}`;

/** Improvement of group `tuned` over group `base` (a base group of one generator). */
export function improvement(tuned: string, base: string, generators: readonly GeneratorInfo[], items: readonly EvalItem[]): Improvement {
  const baseGens = generators.filter((g) => g.group === base);
  if (baseGens.length !== 1) throw new Error(`Expected one generator in the base group ${JSON.stringify(base)} but received ${baseGens.length}`);
  const baseItems = new Map(items.filter((i) => i.generator === baseGens[0]!.name).map((i) => [key(i), i]));
  const tunedGens = generators.filter((g) => g.group === tuned);
  const names = new Set(tunedGens.map((g) => g.name));
  // Each tuned item carries its difference from the base image of the same prompt and seed.
  const paired = items.filter((i) => names.has(i.generator) && baseItems.has(key(i))).map((i) => ({
    ...i, judges: i.judges.map((v, k) => IMPROVEMENT_SCALE * (v - baseItems.get(key(i))!.judges[k]!)),
  }));
  if (paired.length === 0) throw new Error(`Expected images of ${tuned} and ${base} for the same prompts and seeds but received none in common`);
  const { unit } = unitsOf(paired, tunedGens);
  const perDimension = {} as Record<Dimension, SeedSummary>;
  DIMENSIONS.forEach((d, k) => (perDimension[d] = summariseBy(itemsFor(paired, d), unit, (i) => i.judges[k]) ?? overSeeds([])));
  const units = perDimension[DIMENSIONS[0]].values.map((_, u) => DIMENSIONS.reduce((s, d) => s + (perDimension[d].values[u] ?? NaN), 0) / DIMENSIONS.length);
  return { tuned, base, perDimension, mean: overSeeds(units), pairs: paired.length / tunedGens.length };
}
