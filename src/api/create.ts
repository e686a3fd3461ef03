// create.ts: making tensors: from data, constant fills, ranges and seeded random numbers.
import { native } from '../native/addon.js';
import { expected, TreeRewardError } from '../native/errors.js';
import { type Device, type DType } from './dtype.js';
import { Tensor, wrapOp } from './tensor.js';
import { checkDevice, checkDType, checkFinite, checkInt, checkNumber, checkShape, fmtShape } from './validate.js';

export interface CreateOptions {
  /** Defaults to float32. */
  dtype?: DType;
  /** Defaults to defaultDevice(): "cpu", or the device of the innermost onDevice(). */
  device?: Device;
  /** Defaults to false. */
  requiresGrad?: boolean;
}

let currentDevice: Device = 'cpu';

/** Where tensors are made when a creation call names no device: "cpu", or the device of the innermost onDevice(). */
export function defaultDevice(): Device {
  return currentDevice;
}

/**
 * Runs fn with tensors made on `device` by default (tensor(), zeros(), full(), arange(), Rng's randn and
 * rand, and every op that makes a constant), as torch.device(...) used as a context: code written for the
 * cpu runs on a GPU unchanged once its models are moved. The default is restored when fn returns, or when
 * the promise it returns settles (so other work interleaved with an async fn sees the device too).
 */
export function onDevice<T>(device: Device, fn: () => T): T {
  const d = checkDevice(device);
  const prev = currentDevice;
  currentDevice = d;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    currentDevice = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      currentDevice = prev;
    }) as T;
  }
  currentDevice = prev;
  return result;
}

function opts(o: CreateOptions | undefined): { dtype: DType; device: Device; requiresGrad: boolean } {
  const dtype = checkDType(o?.dtype ?? 'float32');
  const device = checkDevice(o?.device ?? currentDevice);
  const requiresGrad = o?.requiresGrad ?? false;
  if (typeof requiresGrad !== 'boolean') throw expected('a boolean', 'requiresGrad', requiresGrad);
  return { dtype, device, requiresGrad };
}

function finish(t: Tensor, requiresGrad: boolean, device: Device): Tensor {
  let out = t;
  if (device !== 'cpu') {
    out = t.to(device);
    t.dispose();
  }
  if (requiresGrad) out.requiresGrad = true;
  return out;
}

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/**
 * A tensor from data: a typed array with a shape, or nested number arrays (shape inferred).
 * Float32Array/Float64Array/Int32Array data are copied and converted to `dtype`.
 */
export function tensor(data: ArrayLike<number> | number | unknown[], shape?: number[], options?: CreateOptions): Tensor {
  const o = opts(options);
  let flat: Float32Array | Float64Array | Int32Array;
  let s: number[];
  if (typeof data === 'number') {
    flat = new Float64Array([data]);
    s = shape ? checkShape(shape) : [];
  } else if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) {
    flat = data;
    s = shape ? checkShape(shape) : [data.length];
  } else if (Array.isArray(data)) {
    s = shape ? checkShape(shape) : inferShape(data);
    const values = (data as unknown[]).flat(Infinity) as unknown[];
    values.forEach((v, i) => {
      if (typeof v !== 'number') throw expected('numbers', `data (element ${i})`, v);
    });
    flat = o.dtype === 'int32' ? Int32Array.from(values as number[]) : Float64Array.from(values as number[]);
  } else if (ArrayBuffer.isView(data) || (data && typeof (data as ArrayLike<number>).length === 'number')) {
    flat = Float64Array.from(data as ArrayLike<number>);
    s = shape ? checkShape(shape) : [flat.length];
  } else {
    throw expected('a number, an array or a typed array', 'data', data);
  }
  const n = s.reduce((a, b) => a * b, 1);
  if (flat.length !== n) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${n} elements for data of shape ${fmtShape(s)} but received ${flat.length}`);
  }
  const t = wrapOp(() => native().fromArray(flat, s, o.dtype));
  return finish(t, o.requiresGrad, o.device);
}

export function zeros(shape: number[], options?: CreateOptions): Tensor {
  const o = opts(options);
  const t = wrapOp(() => native().zeros(checkShape(shape), o.dtype, o.device));
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

export function ones(shape: number[], options?: CreateOptions): Tensor {
  return full(shape, 1, options);
}

export function full(shape: number[], value: number, options?: CreateOptions): Tensor {
  const o = opts(options);
  checkNumber(value, 'value');
  return finish(wrapOp(() => native().full(checkShape(shape), value, o.dtype)), o.requiresGrad, o.device);
}

export function zerosLike(t: Tensor, options?: CreateOptions): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}
export function onesLike(t: Tensor, options?: CreateOptions): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...options });
}

/** [start, end) in steps of `step`; `arange(n)` is [0, n). */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  const o = opts(options);
  const [a, b] = end === undefined ? [0, start] : [start, end];
  checkFinite(a, 'start');
  checkFinite(b, 'end');
  checkFinite(step, 'step');
  if (step === 0) throw expected('a non-zero step', 'step', step);
  return finish(wrapOp(() => native().arange(a, b, step, o.dtype)), o.requiresGrad, o.device);
}

/**
 * A seeded source of random tensors. Numbers are a pure function of (seed, position in the stream):
 * the same seed gives bit-identical tensors on every machine and thread count.
 */
export class Rng {
  readonly seed: number;
  #offset = 0;
  constructor(seed: number) {
    this.seed = checkInt(seed, 'seed', 0);
  }
  /** How many numbers this stream has handed out (its position). */
  get offset(): number {
    return this.#offset;
  }
  set offset(v: number) {
    this.#offset = checkInt(v, 'offset', 0);
  }
  #advance(shape: number[]): number {
    const at = this.#offset;
    this.#offset += shape.reduce((a, b) => a * b, 1);
    return at;
  }
  /** Standard normal numbers. */
  randn(shape: number[], options?: CreateOptions): Tensor {
    const o = opts(options);
    const s = checkShape(shape);
    const at = this.#advance(s);
    return finish(wrapOp(() => native().randn(s, this.seed, at, o.dtype)), o.requiresGrad, o.device);
  }
  /** Uniform numbers in (0, 1). */
  rand(shape: number[], options?: CreateOptions): Tensor {
    const o = opts(options);
    const s = checkShape(shape);
    const at = this.#advance(s);
    return finish(wrapOp(() => native().rand(s, this.seed, at, o.dtype)), o.requiresGrad, o.device);
  }
  /** Uniform integers in [0, n) as a plain number (for shuffles and sampling in TypeScript). */
  int(n: number): number {
    checkInt(n, 'n', 1);
    const u = this.rand([1], { dtype: 'float64' });
    const v = Math.min(n - 1, Math.floor(u.item() * n));
    u.dispose();
    return v;
  }
  /** A seed for a dropout call, advancing the stream by `count`. */
  take(count: number): { seed: number; offset: number } {
    checkInt(count, 'count', 0);
    const at = this.#offset;
    this.#offset += count;
    return { seed: this.seed, offset: at };
  }
}

let defaultRng = new Rng(0);
/** Reseeds the default stream used by randn() and rand(). */
export function manualSeed(seed: number): void {
  defaultRng = new Rng(seed);
}
export function randn(shape: number[], options?: CreateOptions & { rng?: Rng }): Tensor {
  return (options?.rng ?? defaultRng).randn(shape, options);
}
export function rand(shape: number[], options?: CreateOptions & { rng?: Rng }): Tensor {
  return (options?.rng ?? defaultRng).rand(shape, options);
}
export function defaultGenerator(): Rng {
  return defaultRng;
}
