// dtypes.test.ts: bfloat16 and float16 storage: conversion, ops computed in float32, accuracy.
import { describe, expect, it } from 'vitest';

import { F, Rng, tensor } from '../../src/index.js';

describe('low-precision dtypes', () => {
  it('round-trips values that bfloat16 and float16 represent exactly', () => {
    const vals = [0, 1, -2, 0.5, 1024, -0.125, 3.5];
    for (const dtype of ['bfloat16', 'float16'] as const) {
      const t = tensor(vals, undefined, { dtype });
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.toArray())).toEqual(vals);
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
});
