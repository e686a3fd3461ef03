// fast-paths.test.ts: each fast CPU path against its reference, forward and every gradient, on odd
// sizes (channels not divisible by 16, spatial sizes 77 and 143, rows of 197 and 1000). The reference
// is the float64 path, which always runs the plain loops (im2col + gemm for conv2d, the scalar norm
// kernels, group norm then SiLU composed); float32 takes the fast paths (oneDNN convolution when it
// is loaded, the AVX-512 norm kernels and the fused GroupNorm+SiLU where the CPU has AVX-512).
// The fused attention has its own file (flash-attention.test.ts).
import { describe, expect, it } from 'vitest';

import { F, Rng, tidy, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

type Run = (xs: Tensor[]) => Tensor;

// out = run(xs) and d(sum(out * W))/dx for each input, in `dtype`, from the same float64 values.
function forwardBackward(values: Tensor[], run: Run, dtype: 'float32' | 'float64', seed: number): Float64Array[] {
  const xs = values.map((v) => v.to(dtype).detach().requiresGrad_());
  const out = run(xs);
  const w = new Rng(seed).randn(out.shape, { dtype: 'float64' }).to(dtype);
  out.backward(w);
  return [out, ...xs.map((x) => x.grad!)].map((t) => Float64Array.from(t.toArray()));
}

// float32 against float64 on every output, errors relative to the largest reference value.
function checkAgainstReference(shapes: number[][], run: Run, seed: number, what: string, tol = 2e-5): void {
  tidy(() => {
    const rng = new Rng(seed);
    const values = shapes.map((s) => rng.randn(s, { dtype: 'float64' }));
    const ref = forwardBackward(values, run, 'float64', seed + 1);
    const got = forwardBackward(values, run, 'float32', seed + 1);
    ref.forEach((r, i) => {
      const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      expectClose(got[i], r, 0, tol * scale, `${what}: ${i === 0 ? 'output' : `gradient ${i - 1}`}`);
    });
  });
}

describe('fast conv2d (oneDNN) against the im2col reference', () => {
  const cases: [string, number[], number[], { stride?: number | [number, number]; padding?: number | [number, number]; groups?: number }][] = [
    ['3x3 pad 1, 13 -> 7 channels, 9x11', [2, 13, 9, 11], [7, 13, 3, 3], { padding: 1 }],
    ['3x3 stride 2, 13 -> 21 channels, 11x9', [2, 13, 11, 9], [21, 13, 3, 3], { stride: 2, padding: 1 }],
    ['1x1, 20 -> 12 channels, 7x11 (77 positions)', [3, 20, 7, 11], [12, 20, 1, 1], {}],
    ['5x3 asymmetric padding and stride', [1, 6, 13, 11], [5, 6, 5, 3], { stride: [2, 1], padding: [2, 1] }],
    ['3 groups, 12 -> 9 channels', [2, 12, 8, 8], [9, 4, 3, 3], { padding: 1, groups: 3 }],
    ['first layer: 3 input channels, 17x17', [2, 3, 17, 17], [19, 3, 3, 3], { padding: 1 }],
  ];
  for (const [name, xs, ws, opts] of cases) {
    it(name, () => {
      checkAgainstReference([xs, ws, [ws[0]]], ([x, w, b]) => F.conv2d(x, w, b, opts), 11, name);
    });
  }
});

describe('fast norms against the float64 loops', () => {
  it('groupNorm: 20 channels in 5 groups over 7x11, 48 in 16 over 13x13, with and without affine', () => {
    checkAgainstReference([[2, 20, 7, 11], [20], [20]], ([x, w, b]) => F.groupNorm(x, 5, w, b), 21, 'groupNorm 20/5');
    checkAgainstReference([[1, 48, 13, 13], [48], [48]], ([x, w, b]) => F.groupNorm(x, 16, w, b, 1e-6), 22, 'groupNorm 48/16');
    checkAgainstReference([[3, 6, 143]], ([x]) => F.groupNorm(x, 3), 23, 'groupNorm no affine');
  });

  it('groupNorm keeps its accuracy when the mean is far from zero', () => {
    checkAgainstReference([[2, 8, 77]], ([x]) => F.groupNorm(x.add(1000), 2), 24, 'groupNorm offset', 1e-3);
  });

  it('groupNormSilu equals silu(groupNorm) (the fused kernel against the composition)', () => {
    checkAgainstReference([[2, 20, 7, 11], [20], [20]], ([x, w, b]) => (x.dtype === 'float64' ? F.groupNorm(x, 5, w, b).silu() : F.groupNormSilu(x, 5, w, b)), 31, 'groupNormSilu');
    checkAgainstReference([[1, 12, 9, 9]], ([x]) => (x.dtype === 'float64' ? F.groupNorm(x, 4).silu() : F.groupNormSilu(x, 4)), 32, 'groupNormSilu no affine');
    tidy(() => {
      const x = new Rng(33).randn([1, 4, 5]);
      expect(() => F.groupNormSilu(x, 3)).toThrow('Expected an input [N, C, ...] with C divisible by 3 groups for groupNormSilu but received [1, 4, 5]');
      expect(F.groupNormSilu(x.requiresGrad_(), 2).gradFn).toBe('GroupNormSilu');
    });
  });

  it('layerNorm: rows of 197, 1000 and 13, with and without affine', () => {
    checkAgainstReference([[77, 197], [197], [197]], ([x, w, b]) => F.layerNorm(x, [197], w, b), 41, 'layerNorm 197');
    checkAgainstReference([[5, 1000], [1000], [1000]], ([x, w, b]) => F.layerNorm(x, [1000], w, b), 42, 'layerNorm 1000');
    checkAgainstReference([[9, 13]], ([x]) => F.layerNorm(x, [13]), 43, 'layerNorm 13 no affine');
  });
});
