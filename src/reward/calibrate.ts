// calibrate.ts: per-leaf score normalisation on a reference set (ImageReward normalises its score
// by a mean and std measured on its data), so leaves are comparable before aggregation.
import { noGrad, tidy } from '../api/index.js';
import type { TrainingPair } from './pair-source.js';
import { imagesToTensor } from './preprocess.js';
import type { SingleHeadReward } from './single-head.js';
import type { TreeReward } from './tree-reward.js';

function sides(pairs: readonly TrainingPair[]) {
  return pairs.flatMap((p) => [p.winner, p.loser]);
}

/** Sets each leaf's (mean, std) to those of its raw scores over the images of `pairs`. */
export function calibrateTree(model: TreeReward, pairs: readonly TrainingPair[], batchSize = 32): void {
  const all = sides(pairs);
  const L = model.tree.leaves.length;
  const sums = new Float64Array(L), sq = new Float64Array(L);
  for (let a = 0; a < all.length; a += batchSize) {
    const chunk = all.slice(a, a + batchSize);
    const r = noGrad(() => tidy(() => model.heads.leafScores(model.features(chunk.map((s) => s.prompt), imagesToTensor(chunk.map((s) => s.image)))).toArray()));
    for (let i = 0; i < chunk.length; i++)
      for (let k = 0; k < L; k++) {
        sums[k] += r[i * L + k];
        sq[k] += r[i * L + k] ** 2;
      }
  }
  model.tree.leaves.forEach((leaf, k) => {
    const mean = sums[k] / all.length;
    const std = Math.sqrt(Math.max(sq[k] / all.length - mean * mean, 1e-12));
    model.heads.normalisation.set(leaf, { mean, std });
  });
}

export function calibrateSingle(model: SingleHeadReward, pairs: readonly TrainingPair[], batchSize = 32): void {
  const all = sides(pairs);
  let s = 0, q = 0;
  for (let a = 0; a < all.length; a += batchSize) {
    const chunk = all.slice(a, a + batchSize);
    const r = noGrad(() => tidy(() => model.raw(chunk.map((x) => x.prompt), imagesToTensor(chunk.map((x) => x.image))).toArray()));
    for (const v of r) {
      s += v;
      q += v * v;
    }
  }
  const mean = s / all.length;
  model.normalisation = { mean, std: Math.sqrt(Math.max(q / all.length - mean * mean, 1e-12)) };
}
