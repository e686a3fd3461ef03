// evaluate.ts: pairwise accuracy of a reward model by ImageReward's protocol: pairs labelled a tie
// are skipped, a predicted tie counts as wrong. Per dimension and overall (mean over dimensions),
// against the labels given (clean judge labels or the noisy annotator labels). For the tree also
// the routing accuracy of its internal nodes.
import { noGrad, tidy } from '../api/index.js';
import type { TrainingPair } from './pair-source.js';
import { imagesToTensor } from './preprocess.js';
import type { RewardModel } from './reward-model.js';
import type { TreeReward } from './tree-reward.js';

export interface AccuracyReport {
  perDimension: Record<string, { accuracy: number; pairs: number }>;
  /** Mean of the per-dimension accuracies. */
  mean: number;
  /** Correct pairs over all pairs. */
  overall: number;
  pairs: number;
}

/**
 * `useLeaf`: score each pair with the leaf of its dimension where the model has leaves (what a
 * per-dimension preference asks), else with the aggregate reward.
 */
export function pairwiseAccuracy(model: RewardModel, pairs: readonly TrainingPair[], options: { batchSize?: number; useLeaf?: boolean } = {}): AccuracyReport {
  const bs = options.batchSize ?? 32;
  const counted = pairs.filter((p) => !p.tie);
  const right = new Map<string, [number, number]>();
  for (let a = 0; a < counted.length; a += bs) {
    const chunk = counted.slice(a, a + bs);
    const [w, l, leaves] = noGrad(() =>
      tidy(() => {
        const sw = model.score(chunk.map((p) => p.winner.prompt), imagesToTensor(chunk.map((p) => p.winner.image)));
        const sl = model.score(chunk.map((p) => p.loser.prompt), imagesToTensor(chunk.map((p) => p.loser.image)));
        const leafMode = options.useLeaf !== false && sw.leafScores && sw.leaves;
        return leafMode
          ? [sw.leafScores!.toArray(), sl.leafScores!.toArray(), sw.leaves!]
          : [sw.reward.toArray(), sl.reward.toArray(), null];
      }),
    );
    chunk.forEach((p, i) => {
      let a1: number, b1: number;
      if (leaves) {
        const k = leaves.indexOf(p.dimension);
        const L = leaves.length;
        a1 = k >= 0 ? w[i * L + k] : NaN;
        b1 = k >= 0 ? l[i * L + k] : NaN;
      } else {
        a1 = w[i];
        b1 = l[i];
      }
      const r = right.get(p.dimension) ?? [0, 0];
      r[1]++;
      if (a1 > b1) r[0]++; // a predicted tie (or NaN) is wrong
      right.set(p.dimension, r);
    });
  }
  const perDimension = Object.fromEntries([...right].sort().map(([d, [ok, n]]) => [d, { accuracy: ok / n, pairs: n }]));
  const accs = Object.values(perDimension).map((v) => v.accuracy);
  const total = [...right.values()].reduce((s, [ok, n]) => [s[0] + ok, s[1] + n], [0, 0]);
  return { perDimension, mean: accs.length ? accs.reduce((p, q) => p + q, 0) / accs.length : NaN, overall: total[1] ? total[0] / total[1] : NaN, pairs: total[1] };
}

/** How often the internal nodes' argmax picks the branch of the pair's dimension (both images). */
export function routingAccuracy(model: TreeReward, pairs: readonly TrainingPair[], batchSize = 32): number {
  let ok = 0, n = 0;
  for (let a = 0; a < pairs.length; a += batchSize) {
    const chunk = pairs.slice(a, a + batchSize);
    for (const side of ['winner', 'loser'] as const) {
      const G = noGrad(() => tidy(() => model.heads.branchLogits(model.features(chunk.map((p) => p[side].prompt), imagesToTensor(chunk.map((p) => p[side].image)))).toArray()));
      const B = model.tree.branches.length;
      chunk.forEach((p, i) => {
        let best = 0;
        for (let b = 1; b < B; b++) if (G[i * B + b] > G[i * B + best]) best = b;
        if (best === model.tree.branchOfLeaf[model.tree.leafIndex.get(p.dimension)!]) ok++;
        n++;
      });
    }
  }
  return n ? ok / n : NaN;
}
