// bad-input.test.ts: wrong input gets a clear, coded error and the process stays alive.
import { describe, expect, it } from 'vitest';

import { F, tensor, TreeRewardError, zeros } from '../../src/index.js';
import { native } from '../../src/native/addon.js';
import { fromNative } from '../../src/native/errors.js';

function errorOf(fn: () => unknown): TreeRewardError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TreeRewardError);
    return e as TreeRewardError;
  }
  throw new Error('expected an error');
}

describe('bad input', () => {
  it('a tensor from a typed array of the wrong length', () => {
    const e = errorOf(() => tensor(new Float32Array(5), [2, 3]));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('Expected 6 elements for data of shape [2, 3] but received 5');
  });

  it('backward on a tensor with no graph', () => {
    const e = errorOf(() => zeros([1]).backward());
    expect(e.code).toBe('NO_GRAPH');
    expect(e.message).toMatch(/^Expected a tensor that requires grad for backward but received one with no graph/);
  });

  it('backward without a gradient on a non-scalar', () => {
    const e = errorOf(() => tensor([1, 2], undefined, { requiresGrad: true }).mul(2).backward());
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe('Expected a one-element tensor for backward() without a gradient but received shape [2]; pass a gradient of the same shape');
  });

  it('use after dispose', () => {
    const t = zeros([2]);
    t.dispose();
    expect(errorOf(() => t.add(1)).code).toBe('DISPOSED');
    const u = zeros([2]);
    u.dispose();
    const e = errorOf(() => zeros([2]).add(u));
    expect(e.message).toBe('Expected a live tensor for other but received one that was disposed');
    t.dispose(); // twice is harmless
  });

  it('native checks hold even when TypeScript validation is bypassed', () => {
    const a = zeros([2, 3]);
    const e = errorOf(() => {
      try {
        native().matmul(a.handle, a.handle);
      } catch (err) {
        throw fromNative(err);
      }
    });
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(() => native().add({} as never, a.handle)).toThrow('Expected a tensor for a but received an object');
    expect(() => native().conv2d(a.handle, a.handle, null, 1, 1, 0, 0, 1)).toThrow(/conv2d/);
  });

  it('requiresGrad on an int32 tensor', () => {
    const e = errorOf(() => tensor([1, 2], undefined, { dtype: 'int32', requiresGrad: true }));
    expect(e.code).toBe('DTYPE');
    expect(e.message).toBe('Expected a floating-point tensor for requiresGrad but received int32');
  });

  it('a shape of rank above the limit, negative sizes', () => {
    expect(errorOf(() => zeros([1, 1, 1, 1, 1, 1, 1])).message).toBe('Expected a shape of rank at most 6 for shape but received [1, 1, 1, 1, 1, 1, 1]');
    expect(errorOf(() => zeros([2, -1])).message).toBe('Expected an array of non-negative integers for shape but received [2, -1]');
  });

  it('NaN inputs flow through as NaN, never crash', () => {
    const t = tensor([NaN, 1]);
    expect(Number.isNaN(F.linear(t.reshape(1, 2), tensor([[1, 1]])).item())).toBe(true);
    expect(Number.isNaN(t.softmax().toArray()[0])).toBe(true);
  });

  it('.to("cuda") without CUDA says so', () => {
    if (native().hasCuda()) return;
    const e = errorOf(() => zeros([2]).to('cuda'));
    expect(e.code).toBe('CUDA_UNAVAILABLE');
  });
});

describe('allocation beyond the machine', () => {
  it('a 4 TiB host tensor is OUT_OF_MEMORY, not an OOM kill', () => {
    const e = errorOf(() => zeros([1 << 20, 1 << 20]));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/^Could not allocate 4398046511104 bytes of host memory \(the machine has \d+ bytes\)$/);
    expect(zeros([2]).numel).toBe(2);
  });
});
