// autograd.ts: grad-mode scopes, custom backward functions and gradient checkpointing.
import { native } from '../native/addon.js';
import { callNative, expected } from '../native/errors.js';
import { Tensor, requireTensor } from './tensor.js';

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
