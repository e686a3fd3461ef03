// reward-scores.ts: a reward model's own scores of generated images: the aggregate R and, where
// the model has leaves, each leaf's (normalised) score. Images go in at the model's size through
// its own differentiable preprocessing; here without gradient.
import { noGrad, tidy } from '../../api/index.js';
import type { RgbImage } from '../../api/interfaces.js';
import { imagesToTensor } from '../../reward/preprocess.js';
import type { RewardModel } from '../../reward/reward-model.js';

export interface RewardScores {
  reward: number[];
  /** Per leaf, one score per image (models with leaves only). */
  leaves?: Record<string, number[]>;
}

export function rewardScores(model: RewardModel, prompts: readonly string[], images: readonly RgbImage[], batchSize = 32): RewardScores {
  if (prompts.length !== images.length) throw new Error(`Expected one prompt per image (${images.length}) for prompts but received ${prompts.length}`);
  const reward: number[] = [];
  let leaves: Record<string, number[]> | undefined;
  for (let a = 0; a < images.length; a += batchSize) {
    const out = noGrad(() => tidy(() => {
      const s = model.score(prompts.slice(a, a + batchSize), imagesToTensor(images.slice(a, a + batchSize)));
      return { r: Array.from(s.reward.toArray() as ArrayLike<number>), l: s.leafScores ? Array.from(s.leafScores.toArray() as ArrayLike<number>) : null, names: s.leaves ?? null };
    }));
    reward.push(...out.r);
    if (out.l && out.names) {
      leaves ??= Object.fromEntries(out.names.map((n) => [n, [] as number[]]));
      const L = out.names.length;
      out.r.forEach((_, i) => out.names!.forEach((n, k) => leaves![n]!.push(out.l![i * L + k]!)));
    }
  }
  return leaves ? { reward, leaves } : { reward };
}
