// losses.ts: the random-sample-ensemble losses (paper eq. 4-5).
//   eq. 4: routing cross-entropy of the internal nodes' logits G(x) against the sample's branch
//   eq. 5: Bradley-Terry on the sample's own leaf: -log sigmoid(r_w - r_l)
// The paper prints eq. 5 as log(sigma(r_w) - sigma(r_l)); we implement the standard Bradley-Terry
// form (ImageReward's), which is what the surrounding text describes.
import { F, tensor, type Tensor } from '../api/index.js';

/** eq. 4: G (B, branches), targets: the branch index of each sample. */
export function routingLoss(G: Tensor, branchOfSample: number[]): Tensor {
  return F.crossEntropy(G, tensor(Int32Array.from(branchOfSample), [branchOfSample.length], { dtype: 'int32' }));
}

/** eq. 5: mean over pairs of -log sigmoid(r_w - r_l); r_w, r_l (B). */
export function bradleyTerryLoss(rw: Tensor, rl: Tensor): Tensor {
  return rw.sub(rl).logSigmoid().mean().neg();
}

/** Ties as half a win each way: -(log sigmoid(d) + log sigmoid(-d)) / 2, minimal at r_w = r_l. */
export function tieLoss(ra: Tensor, rb: Tensor): Tensor {
  const d = ra.sub(rb);
  return d.logSigmoid().add(d.neg().logSigmoid()).mean().mul(-0.5);
}
