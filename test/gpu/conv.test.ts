// conv.test.ts: conv2d on cuda (native/cuda/conv2d.cu: cuDNN, or the implicit-GEMM kernels) against the
// CPU's conv2d, forward and the input, weight and bias gradients on the same inputs: strides, paddings,
// groups (depthwise included), 1x1 and odd sizes, without bias; float32, float64 and bfloat16 (against
// the CPU's float32 on the same rounded values). Skipped where no GPU is visible; `npm run test:gpu`.
import { describe, it } from 'vitest';

import { F, hasCuda, Rng, tidy, type Tensor } from '../../src/index.js';
import { expectNear, host, leaf, type FloatDType } from './helpers.js';

interface Case {
  N: number;
  Cin: number;
  H: number;
  W: number;
  Cout: number;
  k: [number, number];
  stride: [number, number];
  padding: [number, number];
  groups: number;
  bias: boolean;
}

function run(xs: Tensor[], c: Case, w: Tensor, dtype: FloatDType, device: 'cpu' | 'cuda'): Float32Array[] {
  const [x, weight, bias] = xs.map((t) => leaf(t, dtype, device));
  const out = F.conv2d(x, weight, c.bias ? bias : null, { stride: c.stride, padding: c.padding, groups: c.groups });
  out.backward(w.to(dtype).to(device));
  const grads = [out, x.grad!, weight.grad!];
  if (c.bias) grads.push(bias.grad!);
  return grads.map(host);
}

function compare(c: Case, dtype: FloatDType, seed: number, tol: number): void {
  tidy(() => {
    const rng = new Rng(seed);
    const draw = (s: number[]) => rng.randn(s).to(dtype).to('float32');
    const xs = [draw([c.N, c.Cin, c.H, c.W]), draw([c.Cout, c.Cin / c.groups, ...c.k]).mul(0.3), draw([c.Cout])];
    const Ho = Math.floor((c.H + 2 * c.padding[0] - c.k[0]) / c.stride[0]) + 1, Wo = Math.floor((c.W + 2 * c.padding[1] - c.k[1]) / c.stride[1]) + 1;
    const w = draw([c.N, c.Cout, Ho, Wo]);
    const refDtype = dtype === 'float64' ? 'float64' : 'float32';
    const want = run(xs, c, w, refDtype, 'cpu');
    const got = run(xs, c, w, dtype, 'cuda');
    const what = `${dtype} ${JSON.stringify(c)}`;
    ['output', 'dx', 'dweight', 'dbias'].slice(0, want.length).forEach((name, i) => expectNear(got[i], want[i], tol, `${name} (${what})`));
  });
}

const conv = (o: Partial<Case>): Case => ({ N: 2, Cin: 8, H: 9, W: 11, Cout: 12, k: [3, 3], stride: [1, 1], padding: [1, 1], groups: 1, bias: true, ...o });

const CASES: Case[] = [
  conv({}),                                                            // 3x3 "same", odd sizes
  conv({ stride: [2, 2], padding: [1, 1] }),                           // downsampler
  conv({ k: [1, 1], padding: [0, 0], Cout: 5 }),                       // 1x1 shortcut
  conv({ groups: 4, Cout: 8 }),                                        // grouped
  conv({ groups: 8, Cout: 8, k: [3, 3], bias: false }),                // depthwise, no bias
  conv({ N: 1, Cin: 3, H: 17, W: 13, Cout: 7, k: [5, 3], stride: [2, 3], padding: [2, 0] }), // uneven kernel, strides, padding
  conv({ N: 3, Cin: 4, H: 6, W: 6, Cout: 4, k: [3, 3], padding: [0, 0] }),  // valid padding
];

describe.skipIf(!hasCuda())('conv2d on cuda', () => {
  it('float32 matches the CPU: forward, dx, dweight, dbias', () => {
    CASES.forEach((c, i) => compare(c, 'float32', 60 + i, 1e-4));
  });

  it('float64 matches the CPU', () => {
    CASES.slice(0, 3).forEach((c, i) => compare(c, 'float64', 70 + i, 1e-9));
  });

  it('bfloat16 matches the CPU in float32 on the same rounded values', () => {
    CASES.forEach((c, i) => compare(c, 'bfloat16', 80 + i, 2e-2));
  });

  it('a UNet-sized 3x3 conv (320 channels, 32x32, batch 2) agrees in float32', () => {
    compare(conv({ N: 2, Cin: 320, H: 32, W: 32, Cout: 320 }), 'float32', 90, 2e-4);
  });
});
