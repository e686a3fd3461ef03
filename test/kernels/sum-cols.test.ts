// sum-cols.test.ts: a contiguous tensor summed over its leading axes only (a bias gradient) is summed
// down its columns in place (native/cpu/reduce.cpp sum_cols): against a plain loop in float64, on an
// offset view, with keepdim, in float32 within float32 rounding, and the same at 1 and 2 threads.
import { describe, expect, it } from 'vitest';

import { F, numThreads, Rng, setNumThreads } from '../../src/index.js';

function plainSum(v: ArrayLike<number>, outer: number, inner: number, from = 0): number[] {
  const out = new Array<number>(inner).fill(0);
  for (let j = from; j < outer; j++) for (let i = 0; i < inner; i++) out[i] += v[j * inner + i];
  return out;
}

describe('sum over leading axes', () => {
  it('matches a plain loop on (37, 5, 19) summed over [0, 1], float64, with and without keepdim', () => {
    const x = new Rng(1).randn([37, 5, 19], { dtype: 'float64' });
    const ref = plainSum(x.toArray(), 37 * 5, 19);
    const a = Array.from(x.sum([0, 1]).toArray());
    const k = x.sum([0, 1], true);
    expect(k.shape).toEqual([1, 1, 19]);
    for (let i = 0; i < 19; i++) {
      expect(a[i]).toBeCloseTo(ref[i], 10);
      expect(k.toArray()[i]).toBeCloseTo(ref[i], 10);
    }
  });

  it('reads an offset view in place and gives float32 within rounding, thread-count independent', () => {
    const x = new Rng(2).randn([300, 513]);
    const s = x.slice(0, 7, 300);
    expect(s.isContiguous).toBe(true);
    const ref = plainSum(x.toArray(), 300, 513, 7);
    const two = Array.from(s.sum([0]).toArray());
    const before = numThreads();
    setNumThreads(1);
    const one = Array.from(s.sum([0]).toArray());
    setNumThreads(before);
    expect(one).toEqual(two);
    for (let i = 0; i < 513; i++) expect(Math.abs(two[i] - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i])));
  });

  it('the bias gradient of linear is the column sum of dout', () => {
    const rng = new Rng(3);
    const x = rng.randn([4, 33, 20]), w = rng.randn([12, 20]), b = rng.randn([12]).requiresGrad_();
    const g = rng.randn([4, 33, 12]);
    F.linear(x, w, b).backward(g);
    const ref = plainSum(g.toArray(), 4 * 33, 12);
    const db = b.grad!.toArray();
    for (let i = 0; i < 12; i++) expect(Math.abs(db[i] - ref[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i])));
  });
});
