// tree-heads.ts: the heads on the shared backbone feature: each internal node a 2-layer MLP giving
// one logit (G(x) is the vector of the nodes' logits), each leaf a 4-layer MLP giving one reward.
// Parameter names as the PyTorch peer: tree.nodes.<branch>.layers.{0,2}, tree.leaves.<leaf>.layers.{0,2,4,6}.
import { F, NativeModel, type Device, type Tensor } from '../api/index.js';
import { TreeRewardError } from '../native/errors.js';
import { aggregate, type Aggregated } from './aggregate.js';
import type { ResolvedTree } from './tree-spec.js';

export interface LeafNormalisation {
  mean: number;
  std: number;
}

export interface TreeOutput extends Aggregated {
  /** G(x) (B, branches): the internal nodes' logits */
  branchLogits: Tensor;
  /** r (B, leaves): raw leaf rewards in tree order */
  leafScores: Tensor;
  /** the normalised leaf rewards the aggregation used */
  normalisedScores: Tensor;
}

export class TreeHeads {
  readonly tree: ResolvedTree;
  readonly width: number;
  readonly nodes = new Map<string, NativeModel>();
  readonly leaves = new Map<string, NativeModel>();
  /** Per-leaf score normalisation (ImageReward's (r - mean) / std); identity until calibrated. */
  normalisation = new Map<string, LeafNormalisation>();

  constructor(tree: ResolvedTree, width: number, seed = 0) {
    this.tree = tree;
    this.width = width;
    const { nodeHidden, leafHidden, act } = tree.spec;
    tree.branches.forEach((b, i) => this.nodes.set(b, new NativeModel('mlp', { dims: [width, nodeHidden, 1], act }, seed + 1 + i)));
    tree.leaves.forEach((l, i) => this.leaves.set(l, new NativeModel('mlp', { dims: [width, ...leafHidden, 1], act }, seed + 101 + i)));
    for (const l of tree.leaves) this.normalisation.set(l, { mean: 0, std: 1 });
  }

  /** Moves every head to a device. */
  to(device: Device): this {
    for (const m of [...this.nodes.values(), ...this.leaves.values()]) m.to(device);
    return this;
  }

  /** All head parameters with their full names. */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [b, m] of this.nodes) for (const [n, p] of m.parameters()) out.set(`tree.nodes.${b}.${n}`, p);
    for (const [l, m] of this.leaves) for (const [n, p] of m.parameters()) out.set(`tree.leaves.${l}.${n}`, p);
    return out;
  }

  /** G(x): feature (B, D) -> (B, branches). */
  branchLogits(feature: Tensor): Tensor {
    return F.concat(this.tree.branches.map((b) => this.nodes.get(b)!.call('forward', [feature])[0]), 1);
  }

  /** r_leaf: feature (B, D) -> (B), the raw reward of one leaf. */
  leafScore(feature: Tensor, leaf: string): Tensor {
    const m = this.leaves.get(leaf);
    if (!m) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a leaf of the tree (${this.tree.leaves.join(', ')}) but received "${leaf}"`);
    return m.call('forward', [feature])[0].reshape(-1);
  }

  /** Every leaf's raw reward: (B, leaves) in tree order. */
  leafScores(feature: Tensor): Tensor {
    return F.concat(this.tree.leaves.map((l) => this.leaves.get(l)!.call('forward', [feature])[0]), 1);
  }

  /** The full tree on a feature: G, r, the normalised r, the weights and R (eq. 7-8). */
  forward(feature: Tensor): TreeOutput {
    const G = this.branchLogits(feature);
    const r = this.leafScores(feature);
    const normalised = this.normalise(r);
    return { ...aggregate(this.tree, G, normalised), branchLogits: G, leafScores: r, normalisedScores: normalised };
  }

  /** (r - mean) / std per leaf column. */
  normalise(r: Tensor): Tensor {
    const cols = this.tree.leaves.map((l, i) => {
      const { mean, std } = this.normalisation.get(l)!;
      const c = r.slice(1, i, i + 1);
      return mean === 0 && std === 1 ? c : c.sub(mean).div(std);
    });
    return F.concat(cols, 1);
  }

  dispose(): void {
    for (const m of [...this.nodes.values(), ...this.leaves.values()]) m.dispose();
  }
}
