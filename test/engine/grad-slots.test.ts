// grad-slots.test.ts: the first gradient to reach a slot (a leaf's .grad, an intermediate's sum) is taken
// without a copy when nobody else can see its buffer, and cloned otherwise. Every gradient that two
// inputs could share (pass-throughs, views, the caller's own gradient) must still end up independent.
// Only gradients of 64 KiB and more are taken (native/core/autograd.cpp), so the shapes here are at
// least that big (16,384 float32 values).
import { describe, expect, it } from 'vitest';

import { clipGradNorm, F, memoryStats, resetPeakMemory, Rng, type Tensor } from '../../src/index.js';

const values = (t: Tensor | null) => {
  const a = Array.from(t!.toArray() as Float32Array);
  t!.dispose();
  return a;
};
const scaled = (a: number[], s: number) => a.map((v) => v * s);
const closeTo = (got: number[], want: number[]) => {
  expect(got.length).toBe(want.length);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(err).toBeLessThan(1e-5);
};
/** Scales x.grad in place by a tenth (clipGradNorm writes into the gradient's buffer). */
const shrinkGrad = (x: Tensor) => {
  const g = x.grad!;
  const norm = Math.sqrt(values(g.mul(g).sum())[0]);
  g.dispose();
  clipGradNorm([x], norm / 10);
};

describe('gradient slots', () => {
  it('add with equal shapes: both inputs get their own buffer (one is taken, the other cloned)', () => {
    const rng = new Rng(1);
    const x = rng.randn([128, 160], { requiresGrad: true }), y = rng.randn([128, 160], { requiresGrad: true });
    const c = rng.randn([128, 160]);
    x.add(y).mul(c).sum().backward();  // mul gives add a fresh dout, which add passes to both inputs
    const want = values(c.clone());
    closeTo(values(x.grad), want);
    shrinkGrad(x);
    closeTo(values(x.grad), scaled(want, 0.1));
    closeTo(values(y.grad), want);
    shrinkGrad(y);
    closeTo(values(x.grad), scaled(want, 0.1));
  });

  it('add(x, x) sums both pass-throughs into one slot', () => {
    const rng = new Rng(2);
    const x = rng.randn([20000], { requiresGrad: true }), c = rng.randn([20000]);
    x.add(x).mul(c).sum().backward();
    closeTo(values(x.grad), scaled(values(c.clone()), 2));
  });

  it('reshape and permute views of one gradient reach two leaves independently', () => {
    const rng = new Rng(3);
    const x = rng.randn([16, 32, 40], { requiresGrad: true }), y = rng.randn([40, 32, 16], { requiresGrad: true });
    const c = rng.randn([20480]);
    // add passes dout to both views; reshape's and permute's backward return views of that dout.
    x.reshape([20480]).add(y.permute([2, 1, 0]).reshape([20480])).mul(c).sum().backward();
    const cv = values(c.clone());
    closeTo(values(x.grad), cv);
    const yWant = values(c.reshape([16, 32, 40]).permute([2, 1, 0]).contiguous());
    closeTo(values(y.grad), yWant);
    shrinkGrad(x);
    closeTo(values(y.grad), yWant);
    closeTo(values(x.grad), scaled(cv, 0.1));
  });

  it('concat: slices of one gradient buffer reach two leaves, each copied out', () => {
    const rng = new Rng(10);
    const x = rng.randn([64, 300], { requiresGrad: true }), y = rng.randn([128, 300], { requiresGrad: true });
    const c = rng.randn([192, 300]);
    F.concat([x, y], 0).mul(c).sum().backward();
    const cv = values(c.clone()), n = 64 * 300;
    closeTo(values(x.grad), cv.slice(0, n));
    closeTo(values(y.grad), cv.slice(n));
    shrinkGrad(x);
    closeTo(values(y.grad), cv.slice(n));
    shrinkGrad(y);
    closeTo(values(x.grad), scaled(cv.slice(0, n), 0.1));
    const gx = x.grad!;
    expect(gx.shape).toEqual([64, 300]);
    gx.dispose();
  });

  it('a broadcast (expand) operand gets its summed gradient, the other its own', () => {
    const rng = new Rng(4);
    const x = rng.randn([160, 1], { requiresGrad: true }), y = rng.randn([160, 128], { requiresGrad: true });
    const c = rng.randn([160, 128]);
    x.expand([160, 128]).add(y).mul(c).sum().backward();
    const cv = values(c.clone());
    closeTo(values(x.grad), Array.from({ length: 160 }, (_, r) => cv.slice(128 * r, 128 * r + 128).reduce((s, v) => s + v, 0)));
    closeTo(values(y.grad), cv);
  });

  it('an intermediate used twice sums both gradients (the first taken, the second added in place)', () => {
    const rng = new Rng(5);
    const x = rng.randn([20000], { requiresGrad: true }), a = rng.randn([20000]), b = rng.randn([20000]);
    const z = x.exp();
    z.mul(a).add(z.mul(b)).sum().backward();
    const [xv, av, bv] = [values(x.detach()), values(a.clone()), values(b.clone())];
    closeTo(values(x.grad), xv.map((v, i) => Math.exp(v) * (av[i] + bv[i])));
  });

  it('accumulates over two backward calls into the taken buffer, a handle read in between included', () => {
    const rng = new Rng(6);
    const x = rng.randn([20000], { requiresGrad: true }), c = rng.randn([20000]);
    x.mul(c).sum().backward();
    const first = x.grad!;
    x.mul(c).sum().backward();
    const want = scaled(values(c.clone()), 2);
    closeTo(values(x.grad), want);
    closeTo(values(first), want);  // the leaf's gradient is added in place, as in PyTorch
  });

  it('retainGraph: a second backward over the same graph gives the same gradients again', () => {
    const rng = new Rng(7);
    const x = rng.randn([200, 100], { requiresGrad: true }), w = rng.randn([100, 100], { requiresGrad: true });
    const loss = x.matmul(w).tanh().reshape([20000]).mul(x.reshape([20000])).sum();
    loss.backward(undefined, { retainGraph: true });
    const [gx, gw] = [values(x.grad), values(w.grad)];
    loss.backward();
    closeTo(values(x.grad), scaled(gx, 2));
    closeTo(values(w.grad), scaled(gw, 2));
  });

  it("never takes the caller's gradient: a leaf root and a view root", () => {
    const rng = new Rng(8);
    const x = rng.randn([160, 128], { requiresGrad: true }), g = rng.randn([160, 128]);
    const gv = values(g.clone());
    x.backward(g);
    shrinkGrad(x);
    closeTo(values(g.clone()), gv);
    const y = rng.randn([20480], { requiresGrad: true }), g2 = rng.randn([160, 128]);
    const g2v = values(g2.clone());
    y.reshape([160, 128]).backward(g2);
    shrinkGrad(y);
    closeTo(values(g2.clone()), g2v);
    closeTo(scaled(values(y.grad), 10), g2v);
  });

  it('takes a fresh gradient without a copy: backward through group norm allocates no clone of dx', () => {
    const rng = new Rng(9);
    const x = rng.randn([2, 32, 32, 32], { requiresGrad: true }), dy = rng.randn([2, 32, 32, 32]);
    const bytes = 2 * 32 * 32 * 32 * 4;
    const y = F.groupNorm(x, 8, null, null, 1e-5);
    const before = memoryStats().liveBytes;
    resetPeakMemory();
    y.backward(dy);
    // dx (taken as x.grad) plus the kernel's few per-group statistics; a clone would add another x.
    expect(memoryStats().peakBytes - before).toBeLessThan(bytes + bytes / 4);
    expect(memoryStats().liveBytes - before).toBeLessThanOrEqual(bytes);
    y.dispose();
  });

  // A slice's gradient is added into its region of the input's gradient in place (native/core/autograd.cpp:
  // scatter_into_region), so the slices of one tensor (a qkv projection split in three) share one buffer.
  it('slices of one tensor: the pieces, an overlapping one and a strided one land in one gradient', () => {
    const rng = new Rng(10);
    const [B, N, C] = [4, 6, 30];
    const x = rng.randn([B, N, C], { requiresGrad: true });
    const h = x.mul(2); // an intermediate: its slot lives in the engine's map, not on a leaf
    const parts: [number, number, number, number][] = [[2, 0, 10, 1], [2, 10, 20, 1], [2, 20, 30, 1], [2, 5, 15, 1], [1, 1, 6, 2]];
    const weights = parts.map(([dim, a, b, st]) => rng.randn(h.slice(dim, a, b, st).shape));
    let loss: Tensor | null = null;
    parts.forEach(([dim, a, b, st], i) => {
      const term = h.slice(dim, a, b, st).mul(weights[i]).sum();
      loss = loss ? loss.add(term) : term;
    });
    loss!.backward();
    // expected: 2 * the sum of each weight placed at its slice's positions
    const want = new Array(B * N * C).fill(0);
    parts.forEach(([dim, a, b, st], i) => {
      const w = values(weights[i].clone()), shape = weights[i].shape;
      for (let k = 0; k < w.length; k++) {
        const i0 = Math.floor(k / (shape[1] * shape[2])), i1 = Math.floor(k / shape[2]) % shape[1], i2 = k % shape[2];
        const idx = [i0, i1, i2];
        idx[dim] = a + idx[dim] * st;
        want[(idx[0] * N + idx[1]) * C + idx[2]] += 2 * w[k];
      }
    });
    closeTo(values(x.grad), want);
  });

  it('slices of a leaf add into its existing gradient, over two backward calls', () => {
    const rng = new Rng(11);
    const x = rng.randn([64, 300], { requiresGrad: true });
    const w1 = rng.randn([64, 100]), w2 = rng.randn([64, 200]);
    const run = () => x.slice(1, 0, 100).mul(w1).sum().add(x.slice(1, 100, 300).mul(w2).sum()).backward();
    run();
    run();
    const a = values(w1.clone()), b = values(w2.clone());
    const want: number[] = [];
    for (let r = 0; r < 64; r++) want.push(...a.slice(r * 100, r * 100 + 100).map((v) => 2 * v), ...b.slice(r * 200, r * 200 + 200).map((v) => 2 * v));
    closeTo(values(x.grad), want);
  });

  it('three slices of a qkv-shaped tensor need no zero-padded gradient each: peak memory', () => {
    const rng = new Rng(12);
    const [B, N, C] = [2, 256, 256];
    const x = rng.randn([B, N, 3 * C], { requiresGrad: true });
    const h = x.mul(1.5);
    const ws = [0, 1, 2].map(() => rng.randn([B, N, C]));
    const loss = [0, 1, 2].map((i) => h.slice(2, i * C, (i + 1) * C).mul(ws[i]).sum()).reduce((a, b) => a.add(b));
    const bytes = B * N * 3 * C * 4;
    const before = memoryStats().liveBytes;
    resetPeakMemory();
    loss.backward();
    // the three slices' gradients (one full size in all) and the one slot h's gradient is summed in: 2.0
    // full sizes; a zero-padded copy per slice, added into the slot, peaked at 2.33
    expect(memoryStats().peakBytes - before).toBeLessThan(2.1 * bytes);
    const want: number[] = [];
    const w = ws.map((t) => values(t.clone()));
    for (let r = 0; r < B * N; r++) for (let i = 0; i < 3; i++) want.push(...w[i].slice(r * C, (r + 1) * C).map((v) => 1.5 * v));
    closeTo(values(x.grad), want);
  });

  it("a leaf whose gradient the caller set from a transposed view: a slice's gradient is added into it", () => {
    const rng = new Rng(13);
    const x = rng.randn([4, 6], { requiresGrad: true });
    const base = rng.randn([6, 4]);
    x.grad = base.transpose(0, 1); // stored contiguous (setGrad copies a view), then the slice adds into its region
    x.slice(1, 0, 3).mul(2).sum().backward();
    const b = values(base.clone());
    const want: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) want.push(b[j * 4 + i] + (j < 3 ? 2 : 0));
    closeTo(values(x.grad), want);
  });
});
