// aggregate.ts: hierarchical adaptive reward aggregation (paper eq. 7-8):
//   w_b = softmax_b(G(x))                         over the internal nodes (branches)
//   w_k = softmax_k(r_k / tau)  within branch b   (or softmax(-r_k / tau): the 'inverse' weighting)
//   R   = sum_b w_b sum_{k in b} w_k r_k
// Differentiable in G and r, so in the image through the backbone.
import { F, type Tensor } from '../api/index.js';
import type { ResolvedTree } from './tree-spec.js';

export interface Aggregated {
  /** R (B) */
  reward: Tensor;
  /** w_b (B, branches) */
  branchWeights: Tensor;
  /** w_k (B, leaves), each branch's block summing to one */
  leafWeights: Tensor;
}

/** G (B, branches) branch logits, r (B, leaves) leaf rewards in tree order. */
export function aggregate(tree: ResolvedTree, G: Tensor, r: Tensor): Aggregated {
  const { tau, weighting } = tree.spec;
  const wb = G.softmax(-1); // eq. 7
  const sign = weighting === 'inverse' ? -1 : 1;
  const perBranch: Tensor[] = [];
  const leafWeights: Tensor[] = [];
  tree.spans.forEach(([a, b], bi) => {
    const rb = r.slice(1, a, b); // (B, n_b)
    const wk = rb.mul(sign / tau).softmax(-1); // eq. 8
    leafWeights.push(wk);
    const inner = wk.mul(rb).sum(-1); // (B)
    perBranch.push(inner.mul(wb.slice(1, bi, bi + 1).reshape(-1)));
  });
  let reward = perBranch[0];
  for (let i = 1; i < perBranch.length; i++) reward = reward.add(perBranch[i]);
  return { reward, branchWeights: wb, leafWeights: F.concat(leafWeights, 1) };
}
