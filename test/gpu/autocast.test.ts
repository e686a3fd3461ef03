// autocast.test.ts: bf16-mixed precision on cuda, as on the cpu: under autocast('bfloat16') linear, matmul,
// conv2d and attention take float32 tensors, compute in bf16 on the GPU (float32 accumulation) and return
// float32; the result is exactly the explicit bf16 computation, not the float32 one, and gradients reach
// float32 leaves. ReFL's precision "bf16-mixed" relies on it.
import { describe, expect, it } from 'vitest';

import { autocast, F, hasCuda, Rng, tidy, type Tensor } from '../../src/index.js';
import { host, maxAbs } from './helpers.js';

type Op = (ts: Tensor[]) => Tensor;
const CASES: { name: string; shapes: number[][]; run: Op }[] = [
  { name: 'linear', shapes: [[6, 40], [24, 40], [24]], run: ([x, w, b]) => F.linear(x, w, b) },
  { name: 'matmul', shapes: [[3, 20, 48], [48, 36]], run: ([a, b]) => a.matmul(b) },
  { name: 'conv2d', shapes: [[2, 8, 9, 9], [16, 8, 3, 3], [16]], run: ([x, w, b]) => F.conv2d(x, w, b, { padding: 1 }) },
  { name: 'attention', shapes: [[2, 2, 19, 32], [2, 2, 23, 32], [2, 2, 23, 32]], run: ([q, k, v]) => F.attention(q, k, v) },
];

describe.skipIf(!hasCuda())('autocast on cuda', () => {
  for (const c of CASES) {
    it(`${c.name}: bf16 products, float32 out, gradients to float32 leaves`, () => {
      tidy(() => {
        const rng = new Rng(9);
        const leaves = c.shapes.map((s) => rng.randn(s).to('cuda').requiresGrad_());
        const mixed = autocast('bfloat16', () => c.run(leaves));
        expect(mixed.dtype).toBe('float32');
        const explicit = c.run(leaves.map((t) => t.detach().to('bfloat16'))).to('float32');
        const full = c.run(leaves.map((t) => t.detach()));
        const m = host(mixed), e = host(explicit), f = host(full);
        expect(Array.from(m)).toEqual(Array.from(e));
        let differs = 0;
        for (let i = 0; i < m.length; i++) differs = Math.max(differs, Math.abs(m[i] - f[i]));
        expect(differs, 'autocast changed nothing: the op ran in float32').toBeGreaterThan(0);
        expect(differs).toBeLessThan(3e-2 * maxAbs(f));
        mixed.sum().backward();
        for (const l of leaves) {
          expect(l.grad?.dtype).toBe('float32');
          expect(l.grad?.device).toBe('cuda');
        }
      });
    });
  }
});
