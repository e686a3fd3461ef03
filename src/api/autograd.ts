// autograd.ts: grad-mode scopes, custom backward functions and gradient checkpointing.
import { native } from '../native/addon.js';
import { callNative, expected } from '../native/errors.js';
import { Tensor, requireTensor } from './tensor.js';

/**
 * Runs fn with mixed precision: the products of float32 inputs (linear, matmul, conv2d, attention) cast
 * them to `dtype` ('bfloat16'), compute there (float32 sums) and give float32 back, all recorded, so
 * float32 parameters stay the master copy and get float32 gradients; norms, activations, residual adds
 * and losses stay float32. On the cpu only, where it has native bf16 products (AVX512-BF16; elsewhere the
 * ops run in float32 as without it). 'float32' turns it off. Scopes nest; the previous setting returns.
 */
export function autocast<T>(dtype: 'bfloat16' | 'float32', fn: () => T): T {
  if (dtype !== 'bfloat16' && dtype !== 'float32') throw expected("'bfloat16' or 'float32'", 'autocast dtype', dtype, 'DTYPE');
  if (typeof fn !== 'function') throw expected('a function', 'fn', fn);
  const prev = callNative(() => native().setAutocast(dtype));
  try {
    return fn();
  } finally {
    native().setAutocast(prev);
  }
}

/** A training loop's precision: 'float32' throughout, or 'bf16-mixed' (its steps under autocast('bfloat16')). */
export const PRECISIONS = ['float32', 'bf16-mixed'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** fn in a training loop's precision: under autocast('bfloat16') for 'bf16-mixed', as it is for 'float32'. */
export function inPrecision<T>(precision: Precision, fn: () => T): T {
  if (!PRECISIONS.includes(precision)) throw expected(PRECISIONS.map((p) => `'${p}'`).join(' or '), 'precision', precision);
  return precision === 'bf16-mixed' ? autocast('bfloat16', fn) : fn();
}

/** Runs fn with gradient recording off (no graph is built, nothing is saved for backward). */
export function noGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(false);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording on (inside a noGrad scope). */
export function enableGrad<T>(fn: () => T): T {
  const prev = native().setGradEnabled(true);
  try {
    return fn();
  } finally {
    native().setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native().gradEnabled();
}

/**
 * Gradient checkpointing: runs fn(...inputs) without keeping its activations, and recomputes it
 * in backward. Parameters that fn closes over receive their gradients during that recompute.
 * fn must be deterministic (seed any dropout explicitly).
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
  if (typeof fn !== 'function') throw expected('a function', 'fn', fn);
  if (!Array.isArray(inputs)) throw expected('an array of tensors', 'inputs', inputs);
  inputs.forEach((t, i) => requireTensor(t, `inputs[${i}]`));
  const out = noGrad(() => fn(...inputs));
  requireTensor(out, 'the result of fn');
  if (!isGradEnabled()) return out;
  callNative(() =>
    native().customOp(out.handle, inputs.map((t) => t.handle), (doutHandle) => {
      const dout = new Tensor(doutHandle);
      const xs = inputs.map((t) => {
        const d = t.detach();
        if (t.requiresGrad) d.requiresGrad = true;
        return d;
      });
      const y = fn(...xs);
      y.backward(dout);
      const grads = xs.map((x) => x.grad);
      const handles = grads.map((g) => (g ? g.handle : null));
      y.dispose();
      dout.dispose();
      for (const x of xs) x.dispose();
      return handles;
    }),
  );
  return out;
}
