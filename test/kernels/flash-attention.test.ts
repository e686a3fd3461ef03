// flash-attention.test.ts: the fused attention against the plain composition (the reference),
// forward and every gradient, on odd sizes and head dims, with masks; and its memory bound, in float32
// and bf16. (bf16 against float32 on odd sizes, with masks: test/kernels/bf16.test.ts.)
import { describe, expect, it } from 'vitest';

import { F, memoryStats, resetPeakMemory, Rng, tensor, tidy } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

function compare(B: number, H: number, Sq: number, Skv: number, D: number, maskShape: number[] | null, dtype: 'float32' | 'float64', seed: number): void {
  tidy(() => {
    const rng = new Rng(seed);
    const make = (s: number[]) => rng.randn(s, { dtype }).requiresGrad_();
    const q = make([B, H, Sq, D]), k = make([B, H, Skv, D]), v = make([B, H, Skv, D]);
    const mask = maskShape ? rng.randn(maskShape, { dtype }).mul(2) : null;
    const w = rng.randn([B, H, Sq, D], { dtype });
    const grads = (impl: 'fused' | 'plain'): Float32Array[] | Float64Array[] => {
      for (const t of [q, k, v]) t.grad = null;
      const o = F.attention(q, k, v, { mask, impl });
      o.backward(w);
      return [o.toArray(), q.grad!.toArray(), k.grad!.toArray(), v.grad!.toArray()] as Float32Array[];
    };
    const fused = grads('fused'), plain = grads('plain');
    const tol = dtype === 'float64' ? 1e-10 : 2e-4;
    ['output', 'dq', 'dk', 'dv'].forEach((name, i) => expectClose(fused[i], plain[i], tol, tol, `${name} (Sq ${Sq}, Skv ${Skv}, D ${D})`));
  });
}

describe('fused attention', () => {
  it('matches the plain composition in float64 (self, cross, masks)', () => {
    compare(2, 2, 77, 77, 40, null, 'float64', 1);
    compare(1, 3, 197, 16, 64, [197, 16], 'float64', 2);
    compare(2, 1, 5, 300, 80, [2, 1, 1, 300], 'float64', 3);
  });

  it('matches in float32 on the sizes the models run (77, 197, 1000; D 40, 64, 80, 160)', () => {
    compare(1, 2, 1000, 77, 40, null, 'float32', 4);
    compare(2, 2, 197, 197, 64, null, 'float32', 5);
    compare(1, 1, 130, 1000, 160, null, 'float32', 6);
    compare(1, 2, 64, 129, 80, [1, 1, 64, 129], 'float32', 7);
  });

  it('a causal mask (-inf above the diagonal) gives the same result as the plain form', () => {
    tidy(() => {
      const S = 150, rng = new Rng(8);
      const m = new Float32Array(S * S);
      for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = -Infinity;
      const mask = tensor(m, [S, S]);
      const q = rng.randn([1, 2, S, 32]), k = rng.randn([1, 2, S, 32]), v = rng.randn([1, 2, S, 32]);
      const a = F.attention(q, k, v, { mask }).toArray(), b = F.attention(q, k, v, { mask, impl: 'plain' }).toArray();
      expectClose(a, b, 1e-5, 1e-5, 'causal');
    });
  });

  it('bf16 with a causal mask (-inf above the diagonal) matches float32 on the same inputs', () => {
    tidy(() => {
      const S = 150, D = 40, rng = new Rng(10);
      const m = new Float32Array(S * S);
      for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = -Infinity;
      const inputs = [0, 1, 2].map(() => rng.randn([1, 2, S, D]).to('bfloat16'));
      const w = rng.randn([1, 2, S, D]).to('bfloat16');
      const run = (dtype: 'float32' | 'bfloat16'): Float32Array[] => {
        const [q, k, v] = inputs.map((t) => t.to(dtype).detach().requiresGrad_());
        const o = F.attention(q, k, v, { mask: tensor(m, [S, S]).to(dtype) });
        o.backward(w.to(dtype));
        return [o, q.grad!, k.grad!, v.grad!].map((t) => Float32Array.from(t.toArray()));
      };
      const bf = run('bfloat16'), f32 = run('float32');
      ['output', 'dq', 'dk', 'dv'].forEach((name, i) => {
        const largest = f32[i].reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        expectClose(bf[i], f32[i], 0, 0.006 * largest, `bf16 causal ${name}`);  // the bound of bf16.test.ts for attention
      });
    });
  });

  it('keeps memory linear: at 4096 tokens forward+backward needs < 16 MB beyond inputs, outputs and gradients; at 16384 < 32 MB (float32 and bf16)', () => {
    for (const dtype of ['float32', 'bfloat16'] as const)
      for (const [S, D, limit] of [[4096, 40, 16], [16384, 16, 32]] as const) {
        tidy(() => {
          const rng = new Rng(9);
          const make = () => rng.randn([1, 1, S, D]).to(dtype).requiresGrad_();
          const q = make(), k = make(), v = make();
          const g = rng.randn([1, 1, S, D]).to(dtype);
          const base = memoryStats().liveBytes;
          resetPeakMemory();
          const o = F.attention(q, k, v);
          o.backward(g);
          const peak = memoryStats().peakBytes - base;
          const io = 4 * (S * D * (dtype === 'float32' ? 4 : 2)); // output + dq + dk + dv
          const extra = (peak - io) / (1024 * 1024);
          expect(extra, `extra MB at ${S} tokens, ${dtype}`).toBeLessThan(limit);
        });
      }
  });
});

