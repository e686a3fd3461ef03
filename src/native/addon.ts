// addon.ts: loads the native addon and checks its exports against the typed surface below.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TreeRewardError } from './errors.js';

/**
 * An opaque native tensor handle: a number into the addon's handle table (native/binding/handles.cpp).
 * It owns nothing by itself: a Tensor releases it on dispose() or, if never disposed, through its
 * FinalizationRegistry (src/api/tensor.ts). Raw handles from the binding must be disposed by whoever got them.
 */
export type NativeTensor = number & { readonly __nativeTensor: unique symbol };
type H = NativeTensor;
type Hn = NativeTensor | null;
export type NativeDType = 'float32' | 'float64' | 'bfloat16' | 'float16' | 'int32';

/** An opaque native model handle (a ModelHandle ObjectWrap). */
export interface NativeModelHandle {
  readonly __nativeModel: unique symbol;
}

/** The whole binding surface, one line per native export. */
export interface NativeBinding {
  // creation and data
  empty(shape: number[], dtype: NativeDType, device?: string): H;
  zeros(shape: number[], dtype: NativeDType, device?: string): H;
  full(shape: number[], value: number, dtype: NativeDType, device?: string): H;
  arange(start: number, end: number, step: number, dtype: NativeDType): H;
  randn(shape: number[], seed: number, offset: number, dtype: NativeDType): H;
  rand(shape: number[], seed: number, offset: number, dtype: NativeDType): H;
  fromArray(data: Float32Array | Float64Array | Int32Array | Uint16Array, shape: number[], dtype: NativeDType): H;
  toArray(t: H): Float32Array | Float64Array | Int32Array;
  rawBits(t: H): Uint16Array;
  item(t: H): number;
  shape(t: H): number[];
  dtype(t: H): NativeDType;
  device(t: H): 'cpu' | 'cuda';
  isContiguous(t: H): boolean;
  isAlive(t: H): boolean;
  dispose(t: H): void;
  liveHandles(): number;
  clone(t: H): H;
  toDevice(t: H, device: string): H;
  copyInto(dst: H, src: H): void;
  // autograd
  requiresGrad(t: H): boolean;
  setRequiresGrad(t: H, on: boolean): void;
  grad(t: H): Hn;
  setGrad(t: H, g: Hn): void;
  isLeaf(t: H): boolean;
  gradFnName(t: H): string;
  detach(t: H): H;
  backward(t: H, grad: Hn, retainGraph: boolean): void;
  gradEnabled(): boolean;
  setGradEnabled(on: boolean): boolean;
  setAutocast(dtype: string): string;
  customOp(output: H, inputs: Hn[], backward: (dout: H) => Hn[]): void;
  // machine
  memoryStats(device?: string): {
    liveBytes: number; peakBytes: number; liveBuffers: number;
    allocatedBytes?: number; cachedBytes?: number; reservedBytes?: number; mallocs?: number; cacheHits?: number; peakReservedBytes?: number;
  };
  v8ExternalMemory(): number;
  resetPeakMemory(device?: string): void;
  emptyCache(device?: string): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  hasCuda(): boolean;
  buildInfo(): { blas: boolean; cudaCompiled: boolean; cudaDevice: string; threads: number; threading: "openmp" | "pool"; bf16: boolean; cudaGemm?: string };
  supports(op: string, dtype: NativeDType, device: string): boolean;
  // models
  modelKinds(): string[];
  modelCreate(kind: string, config: object, seed: number): NativeModelHandle;
  modelParameters(m: NativeModelHandle): [string, H][];
  modelCall(m: NativeModelHandle, method: string, inputs: Hn[], options: { checkpointing?: boolean }): Hn[];
  modelTo(m: NativeModelHandle, device: string): void;
  modelDispose(m: NativeModelHandle): void;
  // ops
  add(a: H, b: H): H; sub(a: H, b: H): H; mul(a: H, b: H): H; div(a: H, b: H): H; pow(a: H, b: H): H;
  addScalar(a: H, s: number): H; mulScalar(a: H, s: number): H; powScalar(a: H, p: number): H; rdivScalar(a: H, s: number): H;
  neg(a: H): H; exp(a: H): H; log(a: H): H; sqrt(a: H): H; abs(a: H): H; tanh(a: H): H; sigmoid(a: H): H;
  logSigmoid(a: H): H; relu(a: H): H; gelu(a: H, tanhApprox: boolean): H; silu(a: H): H; geglu(a: H): H;
  clamp(a: H, min: number, max: number): H;
  dropout(a: H, p: number, seed: number, offset: number): H;
  sum(a: H, axes: number[], keepdim: boolean): H; mean(a: H, axes: number[], keepdim: boolean): H;
  max(a: H, axes: number[], keepdim: boolean): H;
  softmax(a: H, dim: number): H; logSoftmax(a: H, dim: number): H;
  matmul(a: H, b: H): H; linear(x: H, w: H, b: Hn): H;
  layerNorm(x: H, normDims: number, w: Hn, b: Hn, eps: number): H;
  groupNorm(x: H, groups: number, w: Hn, b: Hn, eps: number): H;
  groupNormSilu(x: H, groups: number, w: Hn, b: Hn, eps: number): H;
  conv2d(x: H, w: H, b: Hn, strideH: number, strideW: number, padH: number, padW: number, groups: number): H;
  upsampleNearest2x(x: H): H; avgPool2d(x: H, kernel: number, stride: number): H;
  reshape(a: H, shape: number[]): H; permute(a: H, dims: number[]): H; transpose(a: H, d0: number, d1: number): H;
  slice(a: H, dim: number, start: number, end: number, step: number): H; expand(a: H, shape: number[]): H;
  contiguous(a: H): H; concat(xs: H[], dim: number): H; cast(a: H, dtype: NativeDType): H;
  embedding(w: H, idx: H): H; attention(q: H, k: H, v: H, mask: Hn, scale: number): H;
  attentionPlain(q: H, k: H, v: H, mask: Hn, scale: number): H;
  crossEntropy(logits: H, targets: H, ignoreIndex: number): H; mseLoss(a: H, b: H): H;
  addInplace(dst: H, src: H, alpha: number): void; mulScalarInplace(dst: H, s: number): void;
  fillInplace(dst: H, v: number): void; sumOfSquares(a: H): number;
  adamwStep(p: H, g: H, m: H, v: H, lr: number, b1: number, b2: number, eps: number, wd: number, step: number): void;
  sgdStep(p: H, g: H, buf: Hn, lr: number, momentum: number, dampening: number, wd: number, nesterov: boolean, first: boolean): void;
}

const REQUIRED: (keyof NativeBinding)[] = [
  'empty', 'zeros', 'full', 'arange', 'randn', 'rand', 'fromArray', 'toArray', 'rawBits', 'item', 'shape', 'dtype', 'device',
  'isContiguous', 'isAlive', 'dispose', 'liveHandles', 'clone', 'toDevice', 'copyInto', 'requiresGrad', 'setRequiresGrad', 'grad', 'setGrad',
  'isLeaf', 'gradFnName', 'detach', 'backward', 'gradEnabled', 'setGradEnabled', 'setAutocast', 'customOp', 'memoryStats', 'resetPeakMemory', 'emptyCache',
  'v8ExternalMemory', 'numThreads', 'setNumThreads', 'hasCuda', 'buildInfo', 'supports', 'add', 'sub', 'mul', 'div', 'pow', 'addScalar', 'mulScalar',
  'powScalar', 'rdivScalar', 'neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sigmoid', 'logSigmoid', 'relu', 'gelu', 'silu', 'geglu',
  'clamp', 'dropout', 'sum', 'mean', 'max', 'softmax', 'logSoftmax', 'matmul', 'linear', 'layerNorm', 'groupNorm', 'groupNormSilu', 'conv2d',
  'upsampleNearest2x', 'avgPool2d', 'reshape', 'permute', 'transpose', 'slice', 'expand', 'contiguous', 'concat', 'cast',
  'embedding', 'attention', 'attentionPlain', 'crossEntropy', 'mseLoss', 'addInplace', 'mulScalarInplace', 'fillInplace', 'sumOfSquares',
  'adamwStep', 'sgdStep', 'modelKinds', 'modelCreate', 'modelParameters', 'modelCall', 'modelTo', 'modelDispose',
];

function candidates(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const roots = [path.resolve(here, '..', '..'), path.resolve(here, '..', '..', '..')];
  const out: string[] = [];
  if (process.env.TREEREWARD_ADDON) out.push(process.env.TREEREWARD_ADDON);
  for (const r of roots) out.push(path.join(r, 'build', 'Release', 'treereward.node'));
  return out;
}

let cached: NativeBinding | undefined;

/** The native binding, loaded once. Throws NATIVE_LOAD with the paths tried when it is missing. */
export function native(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried = candidates();
  const found = tried.find((p) => existsSync(p));
  if (!found) {
    throw new TreeRewardError('NATIVE_LOAD', `Expected the native addon at one of ${tried.join(', ')} but found none; run \`npm install\` (or \`npm run build:native\`)`);
  }
  // GNU OpenMP (parallel_for's and oneDNN's threads) reads its wait policy once, when the addon loads
  // it: a short spin after each parallel region, unless the user chose one (native/core/thread_pool.cpp).
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) process.env.GOMP_SPINCOUNT = '10000';
  const mod = require(found) as NativeBinding;
  const missing = REQUIRED.filter((k) => typeof (mod as unknown as Record<string, unknown>)[k] !== 'function');
  if (missing.length) {
    throw new TreeRewardError('NATIVE_LOAD', `Expected the native addon at ${found} to export ${missing.join(', ')}; it is out of date: run \`npm run build:native\``);
  }
  cached = mod;
  return mod;
}
