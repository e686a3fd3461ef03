// dtypes.test.ts: bfloat16 and float16 storage: conversion, ops computed in float32, accuracy.
import { describe, expect, it } from 'vitest';

import { F, Rng, tensor, type Tensor } from '../../src/index.js';
import { native } from '../../src/native/addon.js';

describe('low-precision dtypes', () => {
  it('round-trips values that bfloat16 and float16 represent exactly', () => {
    const vals = [0, 1, -2, 0.5, 1024, -0.125, 3.5];
    for (const dtype of ['bfloat16', 'float16'] as const) {
      const t = tensor(vals, undefined, { dtype });
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.toArray())).toEqual(vals);
    }
  });

  it('in-place add and scale of bf16 and f16 compute in float32 and round once (vector lanes and tail)', () => {
    const rng = new Rng(11);
    for (const dtype of ['bfloat16', 'float16'] as const) {
      const d = rng.randn([37]).to(dtype), s = rng.randn([37]).to(dtype);
      const d0 = d.toArray(), s0 = s.toArray();
      native().addInplace(d.handle, s.handle, 0.375);
      // the exact d + 0.375 s (float64) rounded to float32, then to the dtype: as the one float32 pass does
      const want = tensor(Float32Array.from(d0, (x, i) => x + 0.375 * s0[i]), [37], { dtype }).toArray();
      expect(Array.from(d.toArray())).toEqual(Array.from(want));
      native().mulScalarInplace(d.handle, -1.5);
      expect(Array.from(d.toArray())).toEqual(Array.from(tensor(Float32Array.from(want, (x) => -1.5 * x), [37], { dtype }).toArray()));
      d.dispose();
      s.dispose();
    }
  });

  it('rounds to nearest even and keeps inf and NaN', () => {
    const t = tensor(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, NaN, 70000]), [5], { dtype: 'bfloat16' });
    const a = t.toArray();
    expect(a[0]).toBe(1);
    expect(a[1]).toBe(1 + 2 ** -6);
    expect(a[2]).toBe(Infinity);
    expect(Number.isNaN(a[3])).toBe(true);
    const h = tensor(new Float32Array([70000, 2 ** -24, 2 ** -26]), [3], { dtype: 'float16' }).toArray();
    expect(h[0]).toBe(Infinity);
    expect(h[1]).toBe(2 ** -24);
    expect(h[2]).toBe(0);
  });

  it('bf16 matmul and conv stay within bf16 rounding of float32 (relative error < 2%)', () => {
    const rng = new Rng(5);
    const a = rng.randn([16, 32]), b = rng.randn([32, 8]);
    const ref = a.matmul(b).toArray();
    const got = a.to('bfloat16').matmul(b.to('bfloat16'));
    expect(got.dtype).toBe('bfloat16');
    const g = got.toArray();
    let num = 0, den = 0;
    for (let i = 0; i < ref.length; i++) {
      num += (g[i] - ref[i]) ** 2;
      den += ref[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.02);
    const x = rng.randn([1, 4, 8, 8]), w = rng.randn([3, 4, 3, 3]);
    const c32 = F.conv2d(x, w, null, { padding: 1 }).toArray();
    const c16 = F.conv2d(x.to('bfloat16'), w.to('bfloat16'), null, { padding: 1 }).toArray();
    num = 0;
    den = 0;
    for (let i = 0; i < c32.length; i++) {
      num += (c16[i] - c32[i]) ** 2;
      den += c32[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.02);
  });

  it('bf16 tensors get bf16 gradients', () => {
    const x = tensor([1, 2, 3], undefined, { dtype: 'bfloat16', requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad!.dtype).toBe('bfloat16');
    expect(Array.from(x.grad!.toArray())).toEqual([2, 4, 6]);
  });

  // native/core/tensor.cpp strided_copy: same-dtype copies move elements as they are, and the common casts
  // (f32 <-> bf16, f32 <-> f64) run as typed loops, dense or strided; each against a JS reference.
  it('casts and copies of dense, permuted and broadcast views agree with a reference element by element', () => {
    const rng = new Rng(6);
    const x = rng.randn([3, 5, 7]).mul(100);
    const src = Array.from(x.toArray());
    const f32 = (v: number) => Math.fround(v);
    const bf16 = (v: number) => { // round to nearest even on the float32 bits
      const b = new Float32Array([v]), u = new Uint32Array(b.buffer);
      u[0] = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) << 16;
      return b[0];
    };
    const at = (i: number, j: number, k: number) => src[(i * 5 + j) * 7 + k];
    const permuted: number[] = []; // x.permute(2, 0, 1): shape [7, 3, 5]
    for (let k = 0; k < 7; k++) for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) permuted.push(at(i, j, k));
    const row = src.slice(0, 7), broadcast: number[] = []; // x[0, 0] (7 values) expanded to [4, 7]
    for (let r = 0; r < 4; r++) broadcast.push(...row);
    const cases: [string, () => Tensor, number[], (v: number) => number][] = [
      ['dense f32 -> bf16', () => x.to('bfloat16'), src, bf16],
      ['permuted f32 -> bf16', () => x.permute(2, 0, 1).to('bfloat16'), permuted, bf16],
      ['permuted bf16 -> f32', () => x.to('bfloat16').permute(2, 0, 1).to('float32'), permuted, bf16],
      ['permuted bf16 copy', () => x.to('bfloat16').permute(2, 0, 1).contiguous(), permuted, bf16],
      ['broadcast bf16 copy', () => x.to('bfloat16').reshape([105]).slice(0, 0, 7).expand(4, 7).contiguous(), broadcast, bf16],
      ['permuted f32 -> f64', () => x.permute(2, 0, 1).to('float64'), permuted, f32],
      ['permuted f64 -> f32', () => x.to('float64').permute(2, 0, 1).to('float32'), permuted, f32],
    ];
    for (const [name, make, want, round] of cases) {
      const got = Array.from(make().toArray());
      expect(got.length, name).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i], `${name} at ${i}`).toBe(round(want[i]));
    }
  });
});
