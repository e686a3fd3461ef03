// helpers.ts: shared pieces of the GPU tests: results gathered back to float32 arrays on the host, and
// closeness measured against the largest reference value (low-precision results err in proportion to
// the data's scale, not to each element).
import { type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

export type FloatDType = 'float32' | 'float64' | 'bfloat16' | 'float16';

/** The values of t on the host as float32. */
export function host(t: Tensor): Float32Array {
  const c = t.to('cpu');
  const f = c.dtype === 'float32' ? c : c.to('float32');
  return Float32Array.from(f.toArray() as ArrayLike<number>);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Every element within tol * (|expected| + max |expected|). */
export function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expectClose(actual, expected, tol, tol * maxAbs(expected), what);
}

/** A leaf tensor with the values of x (rounded to dtype) on device, requiring a gradient. */
export function leaf(x: Tensor, dtype: FloatDType, device: 'cpu' | 'cuda'): Tensor {
  return x.to(dtype).to(device).detach().requiresGrad_();
}
