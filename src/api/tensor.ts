// tensor.ts: Tensor, a typed handle to a native tensor. Every method validates its arguments,
// then makes one native call; nothing here loops over elements. Release memory with dispose(),
// `using t = ...` (Symbol.dispose) or tidy().
import { native, type NativeTensor } from '../native/addon.js';
import { callNative, expected, TreeRewardError } from '../native/errors.js';
import { isFloat, type Device, type DType } from './dtype.js';
import { track } from './scope.js';
import {
  broadcastShapes, checkDevice, checkDim, checkDType, checkFinite, checkInt, checkNumber, checkShape, fmtShape, shapeMismatch,
} from './validate.js';

export type TypedData = Float32Array | Float64Array | Int32Array;

// A Tensor that is never disposed releases its native handle when V8 collects it (from the event loop,
// as FinalizationRegistry callbacks run); dispose() releases it at once and leaves nothing behind.
const unreleased = new FinalizationRegistry<NativeTensor>((h) => native().dispose(h));

export class Tensor {
  #h: NativeTensor | null;
  #shape: number[] | undefined;

  /** Wraps a native handle, taking it over. Users make tensors with tensor(), zeros(), randn() and the ops. */
  constructor(handle: NativeTensor) {
    this.#h = handle;
    unreleased.register(this, handle, this);
    track(this);
  }

  /** The native handle; throws DISPOSED after dispose(). */
  get handle(): NativeTensor {
    if (this.#h === null) throw new TreeRewardError('DISPOSED', 'Expected a live tensor but received one that was disposed');
    return this.#h;
  }

  get isDisposed(): boolean {
    return this.#h === null;
  }

  get shape(): number[] {
    if (!this.#shape) this.#shape = native().shape(this.handle);
    return [...this.#shape];
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return native().dtype(this.handle);
  }
  get device(): Device {
    return native().device(this.handle);
  }
  get isContiguous(): boolean {
    return native().isContiguous(this.handle);
  }

  // ---- memory ----
  dispose(): void {
    if (this.#h !== null) {
      unreleased.unregister(this);
      native().dispose(this.#h);
      this.#h = null;
    }
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- data ----
  /** Float32Array for float32/bfloat16/float16, Float64Array for float64, Int32Array for int32. A cuda tensor is copied to the host first (waiting for the GPU). */
  toArray(): TypedData {
    if (this.device !== 'cpu') return this.onHost((h) => h.toArray());
    return callNative(() => native().toArray(this.handle));
  }
  /** fn of a host copy of this tensor, freed after. */
  private onHost<T>(fn: (host: Tensor) => T): T {
    const h = this.to('cpu');
    try {
      return fn(h);
    } finally {
      h.dispose();
    }
  }
  /** Nested arrays, for printing and small tests. */
  toNested(): unknown {
    const data = Array.from(this.toArray());
    const shape = this.shape;
    const build = (dim: number, offset: number): unknown => {
      if (dim === shape.length) return data[offset];
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }
  /** The value of a one-element tensor (copied to the host first from cuda). */
  item(): number {
    if (this.device !== 'cpu') return this.onHost((h) => h.item());
    return callNative(() => native().item(this.handle));
  }
  /** A copy in a new buffer; differentiable (the gradient passes through unchanged), as torch.clone. */
  clone(): Tensor {
    return wrapOp(() => native().clone(this.handle));
  }
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.device})`;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle);
  }
  set requiresGrad(on: boolean) {
    if (typeof on !== 'boolean') throw expected('a boolean', 'requiresGrad', on);
    callNative(() => native().setRequiresGrad(this.handle, on));
  }
  /** Sets requiresGrad and returns this tensor, for chaining. */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }
  /** The accumulated gradient of a leaf, or null. A new handle each call: dispose it when done. */
  get grad(): Tensor | null {
    const g = native().grad(this.handle);
    return g ? new Tensor(g) : null;
  }
  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor)) throw expected('a Tensor or null', 'grad', g);
    callNative(() => native().setGrad(this.handle, g ? g.handle : null));
  }
  get isLeaf(): boolean {
    return native().isLeaf(this.handle);
  }
  /** The op that produced this tensor in the graph, or "a leaf". */
  get gradFn(): string {
    return native().gradFnName(this.handle);
  }
  detach(): Tensor {
    return wrapOp(() => native().detach(this.handle));
  }
  /**
   * Reverse-mode differentiation from this tensor. `grad` defaults to ones for a one-element tensor.
   * The graph's saved tensors are freed afterwards unless retainGraph is set.
   */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (grad !== undefined && !(grad instanceof Tensor)) throw expected('a Tensor', 'grad', grad);
    callNative(() => native().backward(this.handle, grad ? grad.handle : null, options.retainGraph ?? false));
  }

  // ---- elementwise ----
  add(other: Tensor | number): Tensor {
    return typeof other === 'number' ? scalarOp('addScalar', this, checkNumber(other, 'other')) : binaryOp('add', this, other);
  }
  sub(other: Tensor | number): Tensor {
    return typeof other === 'number' ? scalarOp('addScalar', this, -checkNumber(other, 'other')) : binaryOp('sub', this, other);
  }
  mul(other: Tensor | number): Tensor {
    return typeof other === 'number' ? scalarOp('mulScalar', this, checkNumber(other, 'other')) : binaryOp('mul', this, other);
  }
  div(other: Tensor | number): Tensor {
    return typeof other === 'number' ? scalarOp('mulScalar', this, 1 / checkNumber(other, 'other')) : binaryOp('div', this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return typeof exponent === 'number' ? scalarOp('powScalar', this, checkNumber(exponent, 'exponent')) : binaryOp('pow', this, exponent);
  }
  /** s - this */
  rsub(s: number): Tensor {
    return this.neg().add(checkNumber(s, 's'));
  }
  /** s / this */
  rdiv(s: number): Tensor {
    return scalarOp('rdivScalar', this, checkNumber(s, 's'));
  }
  neg(): Tensor { return unaryOp('neg', this); }
  exp(): Tensor { return unaryOp('exp', this); }
  log(): Tensor { return unaryOp('log', this); }
  sqrt(): Tensor { return unaryOp('sqrt', this); }
  abs(): Tensor { return unaryOp('abs', this); }
  tanh(): Tensor { return unaryOp('tanh', this); }
  sigmoid(): Tensor { return unaryOp('sigmoid', this); }
  logSigmoid(): Tensor { return unaryOp('logSigmoid', this); }
  relu(): Tensor { return unaryOp('relu', this); }
  silu(): Tensor { return unaryOp('silu', this); }
  /** GELU; `approximate: 'tanh'` for the tanh form. Defaults to the exact (erf) form. */
  gelu(options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
    const a = options.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw expected('"none" or "tanh"', 'approximate', a);
    requireFloat(this, 'gelu');
    return wrapOp(() => native().gelu(this.handle, a === 'tanh'));
  }
  /** Last dimension (2F) split into (hidden, gate): hidden * gelu(gate), as diffusers' GEGLU. */
  geglu(): Tensor {
    requireFloat(this, 'geglu');
    const s = this.shape;
    if (s.length === 0 || s[s.length - 1] % 2 !== 0) throw shapeMismatch(`Expected an even last dimension for geglu but received ${fmtShape(s)}`);
    return wrapOp(() => native().geglu(this.handle));
  }
  clamp(min: number, max: number): Tensor {
    checkNumber(min, 'min');
    checkNumber(max, 'max');
    if (min > max) throw expected(`a max >= min (${min})`, 'max', max);
    requireFloat(this, 'clamp');
    return wrapOp(() => native().clamp(this.handle, min, max));
  }

  // ---- reductions ----
  /** Sum over `axes` (all when omitted). */
  sum(axes?: number | number[], keepdim = false): Tensor {
    return reduceOp('sum', this, axes, keepdim);
  }
  mean(axes?: number | number[], keepdim = false): Tensor {
    return reduceOp('mean', this, axes, keepdim);
  }
  /** Maximum over `axes`; its gradient goes to the first maximal element. */
  max(axes?: number | number[], keepdim = false): Tensor {
    return reduceOp('max', this, axes, keepdim);
  }
  softmax(dim = -1): Tensor {
    requireFloat(this, 'softmax');
    const d = checkDim(dim, this.rank);
    return wrapOp(() => native().softmax(this.handle, d));
  }
  logSoftmax(dim = -1): Tensor {
    requireFloat(this, 'logSoftmax');
    const d = checkDim(dim, this.rank);
    return wrapOp(() => native().logSoftmax(this.handle, d));
  }

  // ---- products ----
  matmul(other: Tensor): Tensor {
    requireTensor(other, 'other');
    requireFloat(this, 'matmul');
    requireSameDType(this, other, 'matmul');
    const a = this.shape, b = other.shape;
    if (a.length === 0 || b.length === 0) throw shapeMismatch(`Expected tensors of rank >= 1 for matmul but received ${fmtShape(a)} and ${fmtShape(b)}`);
    const k1 = a[a.length - 1], k2 = b.length === 1 ? b[0] : b[b.length - 2];
    if (k1 !== k2) throw shapeMismatch(`Expected the inner dimensions of matmul to agree but received ${fmtShape(a)} @ ${fmtShape(b)} (${k1} != ${k2})`);
    return wrapOp(() => native().matmul(this.handle, other.handle));
  }

  // ---- shape ----
  reshape(...shape: number[] | [number[]]): Tensor {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < -1)) throw expected('sizes >= 0 or one -1', 'shape', s);
    return wrapOp(() => native().reshape(this.handle, s));
  }
  /** Same as reshape. */
  view(...shape: number[] | [number[]]): Tensor {
    return this.reshape(...shape);
  }
  flatten(startDim = 0): Tensor {
    const s = this.shape;
    const d = checkDim(startDim, s.length, 'startDim');
    return this.reshape([...s.slice(0, d), -1]);
  }
  unsqueeze(dim: number): Tensor {
    const s = this.shape;
    const d = checkDim(dim, s.length + 1);
    return this.reshape([...s.slice(0, d), 1, ...s.slice(d)]);
  }
  squeeze(dim: number): Tensor {
    const s = this.shape;
    const d = checkDim(dim, s.length);
    if (s[d] !== 1) throw shapeMismatch(`Expected size 1 at dimension ${dim} for squeeze but received shape ${fmtShape(s)}`);
    return this.reshape([...s.slice(0, d), ...s.slice(d + 1)]);
  }
  permute(...dims: number[] | [number[]]): Tensor {
    const d = (Array.isArray(dims[0]) ? dims[0] : dims) as number[];
    const r = this.rank;
    if (d.length !== r) throw expected(`${r} dimensions`, 'permute', d);
    return wrapOp(() => native().permute(this.handle, d));
  }
  transpose(dim0 = -2, dim1 = -1): Tensor {
    const r = this.rank;
    checkDim(dim0, r, 'dim0');
    checkDim(dim1, r, 'dim1');
    return wrapOp(() => native().transpose(this.handle, dim0, dim1));
  }
  /** The transpose of a 2-D tensor. */
  get T(): Tensor {
    if (this.rank !== 2) throw shapeMismatch(`Expected a 2-D tensor for .T but received shape ${fmtShape(this.shape)}`);
    return this.transpose(0, 1);
  }
  /** A view of [start, end) along dim, every `step`th element; negative indices count from the end. */
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    const s = this.shape;
    const d = checkDim(dim, s.length);
    checkInt(start, 'start');
    if (end !== undefined) checkInt(end, 'end');
    checkInt(step, 'step', 1);
    return wrapOp(() => native().slice(this.handle, d, start, end ?? s[d], step));
  }
  /** Splits dim into chunks of `size` (the last may be smaller). */
  split(size: number, dim = -1): Tensor[] {
    checkInt(size, 'size', 1);
    const s = this.shape;
    const d = checkDim(dim, s.length);
    const out: Tensor[] = [];
    for (let i = 0; i < s[d]; i += size) out.push(this.slice(d, i, Math.min(s[d], i + size)));
    return out;
  }
  chunk(n: number, dim = -1): Tensor[] {
    checkInt(n, 'n', 1);
    const s = this.shape;
    const d = checkDim(dim, s.length);
    return this.split(Math.ceil(s[d] / n), d);
  }
  expand(...shape: number[] | [number[]]): Tensor {
    const s = checkShape((Array.isArray(shape[0]) ? shape[0] : shape) as number[]);
    broadcastShapes(this.shape, s, 'expand');
    return wrapOp(() => native().expand(this.handle, s));
  }
  contiguous(): Tensor {
    return wrapOp(() => native().contiguous(this.handle));
  }
  /** A differentiable cast to another dtype. */
  to(target: DType | Device): Tensor {
    if (target === 'cpu' || target === 'cuda') {
      checkDevice(target);
      return wrapOp(() => native().toDevice(this.handle, target));
    }
    const dt = checkDType(target);
    return wrapOp(() => native().cast(this.handle, dt));
  }
  float(): Tensor {
    return this.to('float32');
  }
}

// ---- helpers shared by the API files ----
export function wrapOp(fn: () => NativeTensor): Tensor {
  return new Tensor(callNative(fn));
}

export function requireTensor(v: unknown, name: string): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw expected('a Tensor', name, v);
  if (v.isDisposed) throw new TreeRewardError('DISPOSED', `Expected a live tensor for ${name} but received one that was disposed`);
}

export function requireFloat(t: Tensor, op: string, name = 'input'): void {
  const d = t.dtype;
  if (!isFloat(d)) throw new TreeRewardError('DTYPE', `Expected a floating-point tensor for ${name} of ${op} but received ${d}`);
}

export function requireSameDType(a: Tensor, b: Tensor, op: string): void {
  const da = a.dtype, db = b.dtype;
  if (da !== db) throw new TreeRewardError('DTYPE', `Expected tensors of one dtype for ${op} but received ${da} and ${db}`);
}

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow';
function binaryOp(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  requireTensor(b, 'other');
  requireFloat(a, name, 'a');
  requireFloat(b, name, 'b');
  requireSameDType(a, b, name);
  broadcastShapes(a.shape, b.shape, name);
  return wrapOp(() => native()[name](a.handle, b.handle));
}

type ScalarName = 'addScalar' | 'mulScalar' | 'powScalar' | 'rdivScalar';
function scalarOp(name: ScalarName, a: Tensor, s: number): Tensor {
  requireFloat(a, name);
  return wrapOp(() => native()[name](a.handle, s));
}

type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigmoid' | 'logSigmoid' | 'relu' | 'silu';
function unaryOp(name: UnaryName, a: Tensor): Tensor {
  requireFloat(a, name);
  return wrapOp(() => native()[name](a.handle));
}

function reduceOp(name: 'sum' | 'mean' | 'max', a: Tensor, axes: number | number[] | undefined, keepdim: boolean): Tensor {
  requireFloat(a, name);
  const r = a.rank;
  const list = axes === undefined ? [] : Array.isArray(axes) ? axes : [axes];
  list.forEach((d, i) => checkDim(d, r, `axes[${i}]`));
  if (typeof keepdim !== 'boolean') throw expected('a boolean', 'keepdim', keepdim);
  return wrapOp(() => native()[name](a.handle, list, keepdim));
}

export { checkFinite };
