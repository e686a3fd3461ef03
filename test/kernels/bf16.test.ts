// bf16.test.ts: the accuracy of bfloat16 against float32, stated per op, forward and every gradient.
// A bf16 value keeps 8 significant bits (rounding error up to 2^-9, 0.2%). Products accumulate in
// float32 (oneDNN's bf16 kernels where the CPU has AVX512-BF16 or AMX, else the float32 kernels on
// widened inputs); the norms compute in float32 from bf16 storage. So a bf16 result carries the
// rounding of its inputs and of its output, not an error growing with the length of the sums. Errors
// are the worst over the output and all gradients, relative to the largest magnitude of the float32
// result (measured on these shapes, seed 7: 0.26-0.34% and 0.33-0.79%, attention below):
//   - against float32 on the same bf16-rounded inputs (the arithmetic alone): below 0.5%;
//   - against float32 on the unrounded inputs (what a bf16 model loses): below 1.5%.
// Attention with AVX512-BF16 multiplies in bf16 (vdpbf16ps, float32 sums) and rounds P and dS to bf16
// for the products that read them, as FlashAttention does in half precision. The rounding of dS shows
// most in dQ and dK: their sums over the keys cancel (each row of dS sums to 0), so an error of 2^-9
// of each term is a larger part of the result. Measured arithmetic error on the attention cases below,
// seeds 1-5 and 7: 0.27-0.55% (0.23-0.34% in float32 on widened inputs, TREEREWARD_ATTENTION_BF16=f32;
// keeping dS to 16 bits as two bf16 halves brought dQ and dK back under 0.36%, at two more products).
// So attention's arithmetic bound is 0.6%; its total error stays within 0.79%, below the 1.5%.
import { describe, expect, it } from 'vitest';

import { F, Rng, tidy, type Tensor } from '../../src/index.js';

type Run = (xs: Tensor[]) => Tensor;

function outputs(values: Tensor[], weight: Tensor, run: Run, dtype: 'float32' | 'bfloat16'): Float32Array[] {
  const xs = values.map((v) => v.to(dtype).detach().requiresGrad_());
  const out = run(xs);
  expect(out.dtype).toBe(dtype);
  out.backward(weight.to(dtype));
  return [out, ...xs.map((x) => x.grad!)].map((t) => Float32Array.from(t.toArray()));
}

function worstRelative(got: Float32Array, ref: Float32Array): number {
  let worst = 0, scale = 1e-12;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return worst / scale;
}

// [vs f32 on the rounded inputs, vs f32 on the original inputs], worst over the output and gradients.
function bf16Errors(shapes: number[][], run: Run, seed: number): [number, number] {
  return tidy(() => {
    const rng = new Rng(seed);
    const original = shapes.map((s) => rng.randn(s));
    const rounded = original.map((t) => t.to('bfloat16').to('float32'));
    const outShape = run(original.map((t) => t.detach())).shape;
    const w = rng.randn(outShape).to('bfloat16').to('float32');  // the same upstream gradient for all three
    const bf = outputs(original, w, run, 'bfloat16');
    const sameInputs = outputs(rounded, w, run, 'float32');
    const exact = outputs(original, w, run, 'float32');
    let a = 0, b = 0;
    bf.forEach((g, i) => {
      a = Math.max(a, worstRelative(g, sameInputs[i]));
      b = Math.max(b, worstRelative(g, exact[i]));
    });
    return [a, b];
  });
}

// An additive mask in q's dtype with the same (bf16-representable) values in every run.
const maskOf = (shape: number[], q: Tensor): Tensor => new Rng(11).randn(shape).mul(2).to('bfloat16').to(q.dtype);

const kAttention = 0.006;  // attention's arithmetic bound: P and dS are rounded to bf16 (above)

// [name, input shapes, op, arithmetic bound (0.5% unless given)]
const cases: [string, number[][], Run, number?][] = [
  ['matmul 200x300 @ 300x150', [[200, 300], [300, 150]], ([a, b]) => a.matmul(b)],
  ['linear 96 x 256 -> 130, bias', [[96, 256], [130, 256], [130]], ([x, w, b]) => F.linear(x, w, b)],
  ['conv2d 3x3, 32 -> 48 channels, 16x16', [[2, 32, 16, 16], [48, 32, 3, 3], [48]], ([x, w, b]) => F.conv2d(x, w, b, { padding: 1 })],
  ['conv2d 1x1 stride 2, 40 -> 24 channels', [[2, 40, 15, 15], [24, 40, 1, 1], [24]], ([x, w, b]) => F.conv2d(x, w, b, { stride: 2 })],
  ['attention 77 tokens, head dim 40', [[1, 2, 77, 40], [1, 2, 77, 40], [1, 2, 77, 40]], ([q, k, v]) => F.attention(q, k, v), kAttention],
  ['attention 77 -> 197 keys, head dim 40, mask', [[1, 2, 77, 40], [1, 2, 197, 40], [1, 2, 197, 40]], ([q, k, v]) => F.attention(q, k, v, { mask: maskOf([77, 197], q) }), kAttention],
  ['attention 77 -> 197 keys, head dim 80', [[2, 2, 77, 80], [2, 2, 197, 80], [2, 2, 197, 80]], ([q, k, v]) => F.attention(q, k, v), kAttention],
  ['attention 197 -> 77 keys, head dim 33, broadcast mask', [[1, 3, 197, 33], [1, 3, 77, 33], [1, 3, 77, 33]], ([q, k, v]) => F.attention(q, k, v, { mask: maskOf([1, 3, 1, 77], q) }), kAttention],
  ['attention 77 -> 1000 keys, head dim 24', [[1, 1, 77, 24], [1, 1, 1000, 24], [1, 1, 1000, 24]], ([q, k, v]) => F.attention(q, k, v), kAttention],
  ['attention 130 -> 197 keys, head dim 160', [[1, 1, 130, 160], [1, 1, 197, 160], [1, 1, 197, 160]], ([q, k, v]) => F.attention(q, k, v), kAttention],
  ['groupNorm 32 channels in 8 groups', [[2, 32, 9, 9], [32], [32]], ([x, w, b]) => F.groupNorm(x, 8, w, b)],
  ['groupNormSilu 32 channels in 8 groups', [[2, 32, 9, 9], [32], [32]], ([x, w, b]) => F.groupNormSilu(x, 8, w, b)],
  ['layerNorm rows of 197', [[40, 197], [197], [197]], ([x, w, b]) => F.layerNorm(x, [197], w, b)],
];

describe('bfloat16 accuracy against float32', () => {
  for (const [name, shapes, run, bound = 0.005] of cases) {
    it(`${name}: within ${bound * 100}% of f32 on the same inputs, 1.5% of f32 on unrounded inputs`, () => {
      const [arithmetic, total] = bf16Errors(shapes, run, 7);
      expect(arithmetic, `${name}: bf16 vs f32 on bf16-rounded inputs`).toBeLessThan(bound);
      expect(total, `${name}: bf16 vs f32 on the original inputs`).toBeLessThan(0.015);
    });
  }
});
