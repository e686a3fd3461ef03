// tree.test.ts: the tree declaration's checks, the heads against the PyTorch peer, the aggregation's
// weights and gradient, and path-only gradients.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { readSafetensors, Rng, tensor, tidy, type Tensor } from '../../src/index.js';
import { aggregate } from '../../src/reward/aggregate.js';
import { bradleyTerryLoss, routingLoss } from '../../src/reward/losses.js';
import { TreeHeads } from '../../src/reward/tree-heads.js';
import { DEFAULT_TREE, resolveTree } from '../../src/reward/tree-spec.js';
import { expectClose } from '../helpers/gradcheck.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');
const TINY = { branches: DEFAULT_TREE.branches, nodeHidden: 32, leafHidden: [32, 16, 8], act: 'gelu' as const, tau: 1 };

describe('tree declaration', () => {
  it('accepts the paper tree and user trees (a third branch, an overall leaf)', () => {
    const t = resolveTree(DEFAULT_TREE);
    expect(t.branches).toEqual(['semantic', 'aesthetic']);
    expect(t.leaves).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    expect(t.branchOfLeaf).toEqual([0, 0, 1, 1, 1, 1]);
    const u = resolveTree({ branches: { semantic: ['content'], aesthetic: ['color'], general: ['overall'] } }, ['content', 'color', 'overall']);
    expect(u.spans).toEqual([[0, 1], [1, 2], [2, 3]]);
  });

  it('rejects a leaf under two branches, an unknown dimension, an empty branch, unknown keys', () => {
    expect(() => resolveTree({ branches: { a: ['content'], b: ['content'] } })).toThrow('Expected each leaf under one branch but "content" is under both a and b');
    expect(() => resolveTree({ branches: { a: ['colour'] } }, ['color'])).toThrow('Expected a dimension of the data (color) for leaf "colour" of a but the data has no such dimension');
    expect(() => resolveTree({ branches: { a: [] } })).toThrow('Expected at least one leaf for tree.branches.a but received an empty branch');
    expect(() => resolveTree({ branches: { a: ['x'] }, depth: 3 })).toThrow(/^Expected a valid tree for tree but/);
  });
});

describe('tree heads and aggregation', () => {
  it('reproduce the PyTorch peer (tiny): R, branch weights and leaf scores', () => {
    const { tensors: w } = readSafetensors(path.join(fixtures, 'tree_tiny_weights.safetensors'));
    const { tensors: io } = readSafetensors(path.join(fixtures, 'tree_tiny_io.safetensors'));
    const heads = new TreeHeads(resolveTree(TINY), 64);
    const params = heads.parameters();
    for (const [name, p] of params) {
      expect(w.has(name), name).toBe(true);
      expect(p.shape).toEqual(w.get(name)!.shape);
    }
    expect(params.size).toBe(w.size);
    for (const m of [...heads.nodes.entries(), ...heads.leaves.entries()]) {
      const [name, model] = m;
      const prefix = heads.nodes.has(name) ? `tree.nodes.${name}.` : `tree.leaves.${name}.`;
      model.loadStateDict(new Map([...w].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v])));
    }
    const out = heads.forward(io.get('input.feature')!);
    expectClose(out.reward.toArray(), io.get('output.reward')!.toArray(), 1e-5, 1e-6, 'R');
    expectClose(out.branchWeights.toArray(), io.get('output.branch_weights')!.toArray(), 1e-5, 1e-6, 'branch weights');
    expectClose(out.leafScores.toArray(), io.get('output.leaf_scores')!.toArray(), 1e-5, 1e-6, 'leaf scores');
    // gradient of sum(R) with respect to every head weight
    out.reward.sum().backward();
    let compared = 0;
    for (const [name, p] of params) {
      const want = io.get(`grad.${name}`);
      if (!want) continue; // the peer exports a sample of the gradients
      expectClose(p.grad!.toArray(), want.toArray(), 1e-4, 1e-6, `grad ${name}`);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('weights sum to one and dR/dG, dR/dr match finite differences (both weightings)', () => {
    for (const weighting of ['paper', 'inverse'] as const) {
      const tree = resolveTree({ ...DEFAULT_TREE, tau: 0.7, weighting });
      const rng = new Rng(5);
      const G = rng.randn([3, 2], { dtype: 'float64' }).requiresGrad_();
      const r = rng.randn([3, 6], { dtype: 'float64' }).requiresGrad_();
      const out = aggregate(tree, G, r);
      const wb = out.branchWeights.sum(1).toArray();
      const wk = out.leafWeights.toArray();
      for (let b = 0; b < 3; b++) {
        expect(wb[b]).toBeCloseTo(1, 12);
        expect(wk[b * 6] + wk[b * 6 + 1]).toBeCloseTo(1, 12);
        expect(wk[b * 6 + 2] + wk[b * 6 + 3] + wk[b * 6 + 4] + wk[b * 6 + 5]).toBeCloseTo(1, 12);
      }
      out.reward.sum().backward();
      const f = (g: Float64Array, rr: Float64Array) => tidy(() => aggregate(tree, tensor(g, [3, 2], { dtype: 'float64' }), tensor(rr, [3, 6], { dtype: 'float64' })).reward.sum().item());
      const g0 = Float64Array.from(G.toArray()), r0 = Float64Array.from(r.toArray());
      const num = (which: 'G' | 'r', i: number) => {
        const gp = Float64Array.from(g0), gm = Float64Array.from(g0), rp = Float64Array.from(r0), rm = Float64Array.from(r0);
        if (which === 'G') { gp[i] += 1e-6; gm[i] -= 1e-6; } else { rp[i] += 1e-6; rm[i] -= 1e-6; }
        return (f(gp, rp) - f(gm, rm)) / 2e-6;
      };
      expectClose(G.grad!.toArray(), Array.from(g0, (_, i) => num('G', i)), 1e-6, 1e-8, `dR/dG (${weighting})`);
      expectClose(r.grad!.toArray(), Array.from(r0, (_, i) => num('r', i)), 1e-6, 1e-8, `dR/dr (${weighting})`);
    }
  });

  it('the paper weighting favours the best leaf of a branch, the inverse the weakest', () => {
    const r = tensor([[2, 0, 1, 0, 0, 0]]), G = tensor([[0, 0]]);
    const paper = aggregate(resolveTree(DEFAULT_TREE), G, r).leafWeights.toArray();
    const inverse = aggregate(resolveTree({ ...DEFAULT_TREE, weighting: 'inverse' }), G, r).leafWeights.toArray();
    expect(paper[0]).toBeGreaterThan(paper[1]);
    expect(inverse[0]).toBeLessThan(inverse[1]);
  });

  it('path-only gradients: a batch of one dimension leaves every other leaf with no gradient, every node with some', () => {
    const tree = resolveTree(TINY);
    const heads = new TreeHeads(tree, 64);
    const rng = new Rng(3);
    const fw = rng.randn([4, 64]), fl = rng.randn([4, 64]);
    // a batch of 'lighting' pairs: routing CE on both sides' G, Bradley-Terry on the lighting leaf only
    const branch = tree.branchOfLeaf[tree.leafIndex.get('lighting')!];
    const loss: Tensor = routingLoss(heads.branchLogits(fw), [branch, branch, branch, branch])
      .add(routingLoss(heads.branchLogits(fl), [branch, branch, branch, branch]))
      .add(bradleyTerryLoss(heads.leafScore(fw, 'lighting'), heads.leafScore(fl, 'lighting')));
    loss.backward();
    for (const [name, p] of heads.parameters()) {
      const g = p.grad;
      if (name.startsWith('tree.leaves.') && !name.startsWith('tree.leaves.lighting.')) expect(g, name).toBeNull();
      else {
        expect(g, name).not.toBeNull();
        // The last bias of a leaf cancels in r_w - r_l: its Bradley-Terry gradient is exactly zero.
        if (name !== 'tree.leaves.lighting.layers.6.bias') expect(Math.max(...Array.from(g!.toArray(), Math.abs)), name).toBeGreaterThan(0);
      }
    }
  });
});
