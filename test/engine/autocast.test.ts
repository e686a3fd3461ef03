// autocast.test.ts: mixed precision (`autocast('bfloat16', fn)`, native/core/autograd.h): the products of
// float32 inputs compute in bf16 and give float32 back, recorded, so float32 parameters get float32
// gradients; outside the scope nothing changes. Where the cpu has no native bf16 products
// (buildInfo().bf16 false) autocast is documented to do nothing, and the tests check exactly that.
import { describe, expect, it } from 'vitest';

import { autocast, BlipBackbone, buildInfo, F, memoryStats, Rng, tensor, tidy, type Tensor } from '../../src/index.js';

const arr = (t: Tensor) => Array.from(t.toArray() as Float32Array);
/** max |a - b| / max |b| */
const relErr = (a: number[], b: number[]) => {
  let e = 0, r = 1e-12;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i])), r = Math.max(r, Math.abs(b[i]));
  return e / r;
};
const native = buildInfo().bf16;

/** The op's output and its inputs' gradients, plain and under autocast. */
function both(inputs: Tensor[], op: (xs: Tensor[]) => Tensor) {
  const run = () => tidy(() => {
    for (const x of inputs) x.grad = null;
    const out = op(inputs);
    const rng = new Rng(99);
    out.mul(rng.randn(out.shape)).sum().backward();
    return { out: arr(out), dtype: out.dtype, grads: inputs.map((x) => ({ dtype: x.grad!.dtype, values: arr(x.grad!) })) };
  });
  return { plain: run(), mixed: autocast('bfloat16', run) };
}

describe('autocast (mixed precision)', () => {
  const rng = new Rng(1);
  const cases: [string, Tensor[], (xs: Tensor[]) => Tensor][] = [
    ['linear', [rng.randn([6, 40], { requiresGrad: true }), rng.randn([24, 40], { requiresGrad: true }), rng.randn([24], { requiresGrad: true })],
      ([x, w, b]) => F.linear(x, w, b)],
    ['matmul', [rng.randn([3, 8, 40], { requiresGrad: true }), rng.randn([3, 40, 16], { requiresGrad: true })], ([a, b]) => a.matmul(b)],
    ['conv2d', [rng.randn([2, 8, 9, 9], { requiresGrad: true }), rng.randn([16, 8, 3, 3], { requiresGrad: true }), rng.randn([16], { requiresGrad: true })],
      ([x, w, b]) => F.conv2d(x, w, b, { padding: 1 })],
    ['attention', [rng.randn([2, 2, 20, 32], { requiresGrad: true }), rng.randn([2, 2, 24, 32], { requiresGrad: true }), rng.randn([2, 2, 24, 32], { requiresGrad: true })],
      ([q, k, v]) => F.attention(q, k, v)],
  ];
  for (const [name, inputs, op] of cases) {
    it(`${name}: float32 out and float32 gradients, within bf16 rounding of the float32 op${native ? '' : ' (no native bf16 here: identical)'}`, () => {
      const { plain, mixed } = both(inputs, op);
      expect(mixed.dtype).toBe('float32');
      for (const g of mixed.grads) expect(g.dtype).toBe('float32');
      const outErr = relErr(mixed.out, plain.out);
      const gradErr = Math.max(...mixed.grads.map((g, i) => relErr(g.values, plain.grads[i].values)));
      if (native) {
        // bf16 keeps 8 bits of mantissa: inputs rounded by 2^-9 relative, sums in float32
        expect(outErr).toBeGreaterThan(0); // it did compute in bf16
        expect(outErr).toBeLessThan(0.02);
        expect(gradErr).toBeLessThan(0.03);
      } else {
        expect(outErr).toBe(0);
        expect(gradErr).toBe(0);
      }
    });
  }

  it('changes nothing outside its scope, restores the previous setting when nested or when fn throws', () => {
    const x = rng.randn([4, 32]), w = rng.randn([8, 32]);
    const before = arr(F.linear(x, w));
    autocast('bfloat16', () => {
      autocast('float32', () => expect(arr(F.linear(x, w))).toEqual(before));
      if (native) expect(arr(F.linear(x, w))).not.toEqual(before);
    });
    expect(() => autocast('bfloat16', () => { throw new Error('inside'); })).toThrow('inside');
    expect(arr(F.linear(x, w))).toEqual(before);
  });

  it('rejects a dtype it cannot compute in, with the DTYPE code', () => {
    expect(() => autocast('float16' as 'bfloat16', () => 0)).toThrow(expect.objectContaining({ code: 'DTYPE', message: expect.stringContaining("Expected 'bfloat16' or 'float32' for autocast dtype") }));
  });

  it('a tiny BLIP forward and backward: the feature and the weight gradients stay close, the weights float32', () => {
    const blip = new BlipBackbone('tiny', 3);
    const r = new Rng(4);
    const image = r.randn([2, 3, 32, 32]);
    const ids = tensor([[101, 7, 300, 42, 9, 102], [101, 55, 102, 0, 0, 0]], undefined, { dtype: 'int32' });
    const mask = tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], undefined, { dtype: 'int32' });
    const params = [...blip.parameters().entries()];
    const run = () => tidy(() => {
      for (const [, p] of params) p.grad = null;
      const f = blip.forward(image, ids, mask);
      f.mul(new Rng(5).randn(f.shape)).sum().backward(); // a random projection: sum() after the last layer norm has no gradient
      return { feature: arr(f), grads: params.map(([n, p]) => ({ n, dtype: p.grad?.dtype, norm: p.grad ? Math.hypot(...arr(p.grad)) : 0 })) };
    });
    const plain = run(), mixed = autocast('bfloat16', run);
    expect(relErr(mixed.feature, plain.feature)).toBeLessThan(0.05);
    for (const [, p] of params) expect(p.dtype).toBe('float32');
    // each parameter's gradient norm against its float32 value; the attention key biases are skipped: their
    // gradient is zero but for rounding (a key bias adds the same q.b to every score of a row, which the
    // softmax ignores), about 1e-7 in float32 and 1e-4 in bf16 against norms of 1 to 50 elsewhere
    const floor = 1e-4 * Math.max(...plain.grads.map((g) => g.norm));
    let worst = 0, compared = 0;
    for (let i = 0; i < params.length; i++) {
      if (plain.grads[i].norm < floor) continue;
      expect(mixed.grads[i].dtype, mixed.grads[i].n).toBe('float32');
      worst = Math.max(worst, Math.abs(mixed.grads[i].norm - plain.grads[i].norm) / plain.grads[i].norm);
      compared++;
    }
    expect(compared).toBeGreaterThan(params.length - 10);
    expect(worst).toBeLessThan(native ? 0.02 : 1e-12);
  });

  it('a training loop under autocast keeps native memory flat (the bf16 copies live only inside each step)', () => {
    const blip = new BlipBackbone('tiny', 6);
    const r = new Rng(7);
    const image = r.randn([2, 3, 32, 32]), proj = r.randn([2, 32]);
    const ids = tensor([[101, 7, 300, 42, 9, 102], [101, 55, 102, 0, 0, 0]], undefined, { dtype: 'int32' });
    const mask = tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], undefined, { dtype: 'int32' });
    const params = [...blip.parameters().values()];
    const step = () => autocast('bfloat16', () => tidy(() => {
      const f = blip.forward(image, ids, mask);
      f.reshape([2, -1]).slice(1, 0, 32).mul(proj).sum().backward();
    }));
    for (let i = 0; i < 5; i++) step(); // gradients allocated once, then accumulated in place
    const before = memoryStats().liveBytes;
    for (let i = 0; i < 100; i++) step();
    expect(memoryStats().liveBytes).toBe(before);
    for (const p of params) p.grad = null;
  });
});
