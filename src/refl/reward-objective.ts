// reward-objective.ts: from a reward model's output to the loss the generator minimises:
//   R      = the model's aggregate (the tree's eq. 7-8), one leaf's score, or sum_k w_k r_k
//   L_reward = -mean(R)                     (paper eq. 9)
//            | mean(relu(margin - R))       (ImageReward's refl code, margin 2)
import { F } from '../api/index.js';
import type { Tensor } from '../api/tensor.js';
import { TreeRewardError } from '../native/errors.js';
import type { RewardOutput } from '../reward/reward-model.js';
import type { RewardSelect } from './config.js';

/** R (B) that the generator climbs, from the reward model's output. */
export function selectReward(out: RewardOutput, select: RewardSelect): Tensor {
  if (select.kind === 'aggregate') return out.reward;
  const leaves = out.leaves, scores = out.leafScores;
  if (!leaves || !scores) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a reward model with leaves for objective.select "${select.kind}" but received one without leaf scores`);
  const column = (leaf: string): Tensor => {
    const i = leaves.indexOf(leaf);
    if (i < 0) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a leaf of the reward model (${leaves.join(', ')}) for objective.select but received "${leaf}"`);
    return scores.slice(1, i, i + 1).reshape(-1);
  };
  if (select.kind === 'leaf') return column(select.leaf);
  const terms = Object.entries(select.weights).map(([leaf, w]) => column(leaf).mul(w));
  return terms.length === 1 ? terms[0] : F.stack(terms, 0).sum(0);
}

/** L_reward of a batch's R (B). */
export function rewardLoss(R: Tensor, form: 'negative' | 'relu', margin: number): Tensor {
  // eq. 9: L_reward = -R (mean over the batch); ImageReward: relu(margin - R)
  return form === 'negative' ? R.mean().neg() : R.neg().add(margin).relu().mean();
}

/** Per-leaf means over the batch (for the log), or null for a model without leaves. */
export function leafMeans(out: RewardOutput): Record<string, number> | null {
  if (!out.leaves || !out.leafScores) return null;
  const means = out.leafScores.mean(0).toArray();
  return Object.fromEntries(out.leaves.map((l, i) => [l, means[i]]));
}

/** Per-branch mean weights w_b over the batch, or null. */
export function branchMeans(out: RewardOutput): Record<string, number> | null {
  if (!out.branches || !out.branchWeights) return null;
  const means = out.branchWeights.mean(0).toArray();
  return Object.fromEntries(out.branches.map((b, i) => [b, means[i]]));
}
