// encoder-inputs.ts: the checks every encoder runs on its inputs before a native call (images,
// token ids, attention masks), with messages `Expected <what> for <name> but received <value>`, and
// the move of token ids and masks (data, never differentiated) to the model's device.
import type { Device } from '../api/dtype.js';
import { Tensor } from '../api/tensor.js';
import { fmtShape } from '../api/validate.js';
import { expected, TreeRewardError } from '../native/errors.js';

function requireTensorArg(v: unknown, name: string): Tensor {
  if (!(v instanceof Tensor)) throw expected('a Tensor', name, v);
  return v;
}

/** A float32 image batch (B, 3, size, size); returns B. */
export function checkImages(v: unknown, name: string, size: number): number {
  const t = requireTensorArg(v, name);
  const s = t.shape;
  if (s.length !== 4 || s[0] < 1 || s[1] !== 3 || s[2] !== size || s[3] !== size) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected a tensor of shape [B, 3, ${size}, ${size}] for ${name} but received ${fmtShape(s)}`);
  }
  if (t.dtype !== 'float32') throw new TreeRewardError('DTYPE', `Expected a float32 tensor for ${name} but received ${t.dtype}`);
  return s[0];
}

/** Token ids: int32 (B, T), 1 <= T <= maxTokens, every id in [0, vocab). Returns [B, T]. */
export function checkIds(v: unknown, name: string, vocab: number, maxTokens: number): [number, number] {
  const t = requireTensorArg(v, name);
  const s = t.shape;
  if (s.length !== 2 || s[0] < 1 || s[1] < 1 || s[1] > maxTokens) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected a tensor of shape [B, T] with 1 <= T <= ${maxTokens} for ${name} but received ${fmtShape(s)}`);
  }
  if (t.dtype !== 'int32') throw new TreeRewardError('DTYPE', `Expected an int32 tensor for ${name} but received ${t.dtype}`);
  const ids = hostValues(t);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= vocab) throw expected(`token ids in [0, ${vocab})`, `${name}[${Math.floor(i / s[1])}][${i % s[1]}]`, ids[i]);
  }
  return [s[0], s[1]];
}

/** An attention mask (B, T) of 1 (token) and 0 (padding), float32 or int32; returns it as float32. */
export function maskAsFloat(v: unknown, name: string, shape: readonly number[]): Tensor {
  const t = requireTensorArg(v, name);
  if (fmtShape(t.shape) !== fmtShape(shape)) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected a tensor of shape ${fmtShape(shape)} for ${name} but received ${fmtShape(t.shape)}`);
  }
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new TreeRewardError('DTYPE', `Expected a float32 or int32 tensor for ${name} but received ${t.dtype}`);
  const m = hostValues(t);
  for (let i = 0; i < m.length; i++) if (m[i] !== 0 && m[i] !== 1) throw expected('a mask of 0 and 1', `${name}[${Math.floor(i / shape[1])}][${i % shape[1]}]`, m[i]);
  return t.dtype === 'float32' ? t : t.to('float32');
}

/** Tokens (B, N, width) in float32. */
export function checkTokens(v: unknown, name: string, batch: number, width: number): void {
  const t = requireTensorArg(v, name);
  const s = t.shape;
  if (s.length !== 3 || s[0] !== batch || s[2] !== width) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected a tensor of shape [${batch}, N, ${width}] for ${name} but received ${fmtShape(s)}`);
  }
  if (t.dtype !== 'float32') throw new TreeRewardError('DTYPE', `Expected a float32 tensor for ${name} but received ${t.dtype}`);
}

/** The values of t, read on the host (through a copy when t lives on the GPU). */
export function hostValues(t: Tensor): ArrayLike<number> {
  if (t.device === 'cpu') return t.toArray();
  const h = t.to('cpu');
  try {
    return h.toArray();
  } finally {
    h.dispose();
  }
}

/**
 * Runs fn with `data` (token ids, masks) on `device`: each tensor itself when it is there already, else a
 * copy, released after fn (the native graph keeps what it needs).
 */
export function withDataOn<T>(device: Device, data: (Tensor | null)[], fn: (moved: (Tensor | null)[]) => T): T {
  const moved = data.map((t) => (t === null || t.device === device ? t : t.to(device)));
  try {
    return fn(moved);
  } finally {
    moved.forEach((m, i) => {
      if (m !== data[i]) m?.dispose();
    });
  }
}
