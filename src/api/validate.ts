// validate.ts: argument checks that run before any native call. Every message has the form
// `Expected <what> for <name> but received <value>`.
import { expected, TreeRewardError } from '../native/errors.js';
import { DTYPES, MAX_RANK, type DType, type Device } from './dtype.js';

export function checkInt(v: unknown, name: string, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw expected(min === -Infinity ? 'an integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`, name, v);
  }
  return v;
}

export function checkNumber(v: unknown, name: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw expected('a number', name, v);
  return v;
}

export function checkFinite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw expected('a finite number', name, v);
  return v;
}

export function checkShape(v: unknown, name = 'shape'): number[] {
  if (!Array.isArray(v) || v.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw expected('an array of non-negative integers', name, v);
  }
  if (v.length > MAX_RANK) throw expected(`a shape of rank at most ${MAX_RANK}`, name, v);
  return v as number[];
}

export function checkDType(v: unknown, name = 'dtype'): DType {
  if (typeof v !== 'string' || !(DTYPES as readonly string[]).includes(v)) throw expected(`one of ${DTYPES.join(', ')}`, name, v, 'DTYPE');
  return v as DType;
}

export function checkDevice(v: unknown, name = 'device'): Device {
  if (v !== 'cpu' && v !== 'cuda') throw expected('"cpu" or "cuda"', name, v, 'DEVICE');
  return v;
}

export function checkDim(dim: unknown, rank: number, name = 'dim'): number {
  checkInt(dim, name);
  const d = dim as number;
  if (d < -rank || d >= rank) throw expected(`a dimension in [${-rank}, ${rank - 1}]`, name, d);
  return d < 0 ? d + rank : d;
}

export function checkProbability(v: unknown, name: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw expected('a probability in [0, 1)', name, v);
  return v;
}

export function shapeMismatch(message: string): TreeRewardError {
  return new TreeRewardError('SHAPE_MISMATCH', message);
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** NumPy broadcasting of two shapes, or a SHAPE_MISMATCH naming op. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw shapeMismatch(`Expected shapes that broadcast together for ${op} but received ${fmtShape(a)} and ${fmtShape(b)}`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
