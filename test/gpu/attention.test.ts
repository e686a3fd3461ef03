// attention.test.ts: the fused attention on cuda (native/cuda/attention.cu) against the CPU's fused
// attention, forward and the three gradients, on the same inputs: every head-dim bucket (32 to 160),
// odd sequence lengths, self and cross attention, broadcast masks, a causal mask, strided q/k/v, and
// float32, bfloat16 and float16 (low precision against the CPU's float32 on the same rounded values).
// Skipped where no GPU is visible; run with `npm run test:gpu`.
import { describe, expect, it } from 'vitest';

import { F, hasCuda, Rng, tensor, tidy, type Tensor } from '../../src/index.js';
import { expectNear, host, leaf, type FloatDType } from './helpers.js';

interface Case {
  B: number;
  H: number;
  Sq: number;
  Skv: number;
  D: number;
  /** an additive mask of this shape, 'causal' (-inf above the diagonal), or none */
  mask?: number[] | 'causal';
}

function causal(Sq: number, Skv: number): Tensor {
  const m = new Float32Array(Sq * Skv);
  for (let i = 0; i < Sq; i++) for (let j = i + 1; j < Skv; j++) m[i * Skv + j] = -Infinity;
  return tensor(m, [Sq, Skv]);
}

/** [output, dq, dk, dv] of the fused attention with upstream gradient w, on device in dtype. */
function run(xs: Tensor[], mask: Tensor | null, w: Tensor, dtype: FloatDType, device: 'cpu' | 'cuda'): Float32Array[] {
  const [q, k, v] = xs.map((x) => leaf(x, dtype, device));
  const o = F.attention(q, k, v, { mask: mask ? mask.to(dtype).to(device) : null });
  o.backward(w.to(dtype).to(device));
  return [o, q.grad!, k.grad!, v.grad!].map(host);
}

function compare(c: Case, dtype: FloatDType, seed: number, tol: number): void {
  tidy(() => {
    const rng = new Rng(seed);
    // the values dtype can hold: both sides start from exactly the same numbers
    const draw = (s: number[]) => rng.randn(s).to(dtype).to('float32');
    const xs = [draw([c.B, c.H, c.Sq, c.D]), draw([c.B, c.H, c.Skv, c.D]), draw([c.B, c.H, c.Skv, c.D])];
    const mask = c.mask === 'causal' ? causal(c.Sq, c.Skv) : c.mask ? draw(c.mask).mul(2) : null;
    const w = draw([c.B, c.H, c.Sq, c.D]);
    const want = run(xs, mask, w, 'float32', 'cpu');
    const got = run(xs, mask, w, dtype, 'cuda');
    const what = `${dtype} B${c.B} H${c.H} Sq${c.Sq} Skv${c.Skv} D${c.D}${c.mask ? ` mask ${String(c.mask)}` : ''}`;
    ['output', 'dq', 'dk', 'dv'].forEach((name, i) => expectNear(got[i], want[i], tol, `${name} (${what})`));
  });
}

const CASES: Case[] = [
  { B: 1, H: 2, Sq: 33, Skv: 65, D: 32 },
  { B: 2, H: 2, Sq: 77, Skv: 77, D: 40 },                         // CLIP-sized self attention, D 40 -> 48
  { B: 1, H: 3, Sq: 197, Skv: 16, D: 64, mask: [197, 16] },        // ViT tokens against a short context
  { B: 2, H: 1, Sq: 5, Skv: 300, D: 80, mask: [2, 1, 1, 300] },   // padding mask per batch
  { B: 1, H: 2, Sq: 130, Skv: 77, D: 128 },
  { B: 1, H: 1, Sq: 129, Skv: 200, D: 160 },                       // SD1.5's deepest level
  { B: 1, H: 2, Sq: 150, Skv: 150, D: 64, mask: 'causal' },
];

describe.skipIf(!hasCuda())('attention on cuda', () => {
  it('float32 matches the CPU (every head-dim bucket, odd lengths, masks)', () => {
    CASES.forEach((c, i) => compare(c, 'float32', 10 + i, 2e-4));
  });

  it('bfloat16 (tensor cores, float32 accumulation) matches the CPU in float32 on the same rounded values', () => {
    CASES.forEach((c, i) => compare(c, 'bfloat16', 20 + i, 3e-2));
  });

  it('float16 matches the CPU in float32 on the same rounded values', () => {
    CASES.forEach((c, i) => compare(c, 'float16', 30 + i, 6e-3));
  });

  it('takes strided q, k, v (heads split from (B, S, H, D) by a permute) without changing the result', () => {
    tidy(() => {
      const rng = new Rng(40);
      const [B, S, H, D] = [2, 70, 4, 40];
      const x = rng.randn([B, S, H * D]);
      const heads = (t: Tensor) => t.reshape([B, S, H, D]).permute([0, 2, 1, 3]);
      const w = rng.randn([B, H, S, D]);
      const onDevice = (device: 'cpu' | 'cuda') => {
        const xd = leaf(x, 'float32', device);
        const o = F.attention(heads(xd), heads(xd.mul(0.5)), heads(xd.mul(-1)));
        o.backward(w.to(device));
        return [o, xd.grad!].map(host);
      };
      const want = onDevice('cpu'), got = onDevice('cuda');
      expectNear(got[0], want[0], 2e-4, 'output');
      expectNear(got[1], want[1], 2e-4, 'dx');
    });
  });

  it('head dims above 160 and float64 take the composed form on cuda and still agree', () => {
    compare({ B: 1, H: 1, Sq: 40, Skv: 50, D: 192 }, 'float32', 50, 2e-4);
    tidy(() => {
      const rng = new Rng(51);
      const q = rng.randn([1, 2, 9, 16], { dtype: 'float64' }), k = rng.randn([1, 2, 11, 16], { dtype: 'float64' });
      const a = host(F.attention(q.to('cuda'), k.to('cuda'), k.to('cuda')));
      const b = host(F.attention(q, k, k));
      expectNear(a, b, 1e-6, 'float64');
    });
  });

  it('an int32 mask is read as float32, as on the CPU', () => {
    tidy(() => {
      const rng = new Rng(53);
      const q = rng.randn([1, 2, 12, 32]), k = rng.randn([1, 2, 20, 32]);
      const m = new Int32Array(12 * 20).map((_, i) => (i % 3 === 0 ? -4 : 0));
      const mask = tensor(m, [12, 20], { dtype: 'int32' });
      const a = host(F.attention(q.to('cuda'), k.to('cuda'), k.to('cuda'), { mask: mask.to('cuda') }));
      const b = host(F.attention(q, k, k, { mask }));
      expectNear(a, b, 2e-4, 'int32 mask');
    });
  });

  it('mixing devices is a DEVICE error naming both', () => {
    tidy(() => {
      const q = new Rng(52).randn([1, 1, 4, 8]);
      expect(() => F.attention(q.to('cuda'), q, q)).toThrow(/on one device but received cuda and cpu/);
    });
  });
});
