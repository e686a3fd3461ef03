// autograd.test.ts: the tape's behaviour: accumulation, noGrad, detach, retainGraph, checkpoint, casts.
import { describe, expect, it } from 'vitest';

import { checkpoint, F, noGrad, randn, Rng, tensor, TreeRewardError } from '../../src/index.js';

describe('autograd', () => {
  it('accumulates leaf gradients over several backward calls (+=)', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    x.mul(x).sum().backward();
    x.mul(3).sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual([5, 7, 9]);
  });

  it('sums gradients where a tensor is used twice in one graph', () => {
    const x = tensor([2], undefined, { requiresGrad: true });
    const y = x.mul(x).add(x.exp());
    y.sum().backward();
    expect(x.grad!.item()).toBeCloseTo(4 + Math.exp(2), 4);
  });

  it('records nothing under noGrad and through detach', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    const z = x.detach().mul(2);
    expect(z.requiresGrad).toBe(false);
    expect(x.mul(2).gradFn).toBe('MulScalar');
  });

  it('frees the graph after backward unless retainGraph is set', () => {
    const x = tensor([1, 2], undefined, { requiresGrad: true });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(Array.from(x.grad!.toArray()).map((v) => +v.toFixed(4))).toEqual([2 * Math.E, 2 * Math.E * Math.E].map((v) => +v.toFixed(4)));
    let caught: unknown;
    try {
      y.backward();
    } catch (e) {
      caught = e;
    }
    expect((caught as TreeRewardError).code).toBe('NO_GRAPH');
    expect((caught as TreeRewardError).message).toBe(
      "Expected a graph that is still held for backward but Sum's saved tensors were already freed by an earlier backward; pass retainGraph: true to the first backward",
    );
  });

  it('checkpoint gives the same gradients as the plain computation, parameters included', () => {
    const rng = new Rng(3);
    const w1 = rng.randn([6, 8], { dtype: 'float64', requiresGrad: true });
    const w2 = rng.randn([8, 4], { dtype: 'float64', requiresGrad: true });
    const block = (h: ReturnType<typeof tensor>) => h.matmul(w1).gelu().matmul(w2).tanh();
    const x1 = rng.randn([3, 6], { dtype: 'float64', requiresGrad: true });
    const x2 = x1.detach().requiresGrad_();
    block(x1).sum().backward();
    const plain = [x1.grad!.toArray(), w1.grad!.toArray(), w2.grad!.toArray()];
    w1.grad = null;
    w2.grad = null;
    const out = checkpoint(block, [x2]);
    expect(out.gradFn).toBe('Checkpoint');
    out.sum().backward();
    const ck = [x2.grad!.toArray(), w1.grad!.toArray(), w2.grad!.toArray()];
    for (let i = 0; i < 3; i++) expect(Array.from(ck[i])).toEqual(Array.from(plain[i]));
  });

  it('casts are differentiable: the gradient comes back in the source dtype', () => {
    const x = tensor([0.5, -1, 2], undefined, { dtype: 'float64', requiresGrad: true });
    x.to('float32').mul(3).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(Array.from(x.grad!.toArray())).toEqual([3, 3, 3]);
  });

  it('gradients of a broadcast operand are summed back to its shape', () => {
    const a = randn([4, 3], { requiresGrad: true });
    const b = tensor([1, 2, 3], undefined, { requiresGrad: true });
    F.linear(a.add(b), tensor([[1, 1, 1]])).sum().backward();
    expect(b.grad!.shape).toEqual([3]);
    expect(Array.from(b.grad!.toArray())).toEqual([4, 4, 4]);
  });
});

describe('clone', () => {
  it('is a differentiable copy in a new buffer', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const y = x.clone();
    expect(y.gradFn).toBe('Contiguous');
    y.mul(y).sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual([2, 4, 6]);
    const z = noGrad(() => x.clone());
    expect(z.requiresGrad).toBe(false);
  });
});
