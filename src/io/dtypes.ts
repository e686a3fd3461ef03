// dtypes.ts: the element types of stored tensors (safetensors' names, which PyTorch storages map
// onto), their widths, and the one place raw little-endian bytes become engine tensors:
// floats as float32/float64/bfloat16/float16 (converted natively), integers and BOOL as int32.
import { endianness } from 'node:os';

import { native } from '../native/addon.js';
import { TreeRewardError } from '../native/errors.js';
import { Tensor, wrapOp } from '../api/tensor.js';
import { type DType } from '../api/dtype.js';

/** Bits per element of every dtype the safetensors spec names. */
export const STORED_DTYPE_BITS = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64,
} as const;
export type StoredDType = keyof typeof STORED_DTYPE_BITS;

export function isStoredDType(s: unknown): s is StoredDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(STORED_DTYPE_BITS, s);
}

export const FLOAT_STORED: ReadonlySet<StoredDType> = new Set<StoredDType>(['F64', 'F32', 'F16', 'BF16', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0']);
const INT_STORED: ReadonlySet<StoredDType> = new Set<StoredDType>(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64']);

/** Bytes for `numel` elements, or null when sub-byte elements do not fill whole bytes. */
export function storedByteLength(dtype: StoredDType, numel: number): number | null {
  const bits = STORED_DTYPE_BITS[dtype] * numel;
  return bits % 8 === 0 ? bits / 8 : null;
}

/** How float entries become tensors: one engine dtype for all, or 'keep' (F16 -> float16, BF16 -> bfloat16, F64 -> float64, the rest float32). */
export type FloatTarget = Exclude<DType, 'int32'> | 'keep';

const KEEP: Partial<Record<StoredDType, DType>> = { F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

let endianChecked = false;
function requireLittleEndian(): void {
  if (endianChecked) return;
  if (endianness() !== 'LE') throw new TreeRewardError('NOT_SUPPORTED', 'Expected a little-endian machine to read stored tensors but this one is big-endian');
  endianChecked = true;
}

// 8-bit floats: one decoded table per format (256 entries).
function f8Table(kind: 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0'): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    if (kind === 'F8_E8M0') {
      t[b] = b === 255 ? NaN : 2 ** (b - 127);
      continue;
    }
    const s = b & 0x80 ? -1 : 1;
    const [eBits, mBits, bias] = kind === 'F8_E4M3' ? [4, 3, 7] : [5, 2, 15];
    const e = (b >> mBits) & ((1 << eBits) - 1), m = b & ((1 << mBits) - 1);
    if (kind === 'F8_E4M3' && e === 15 && m === 7) t[b] = NaN; // e4m3fn: no infinities, one NaN per sign
    else if (kind === 'F8_E5M2' && e === 31) t[b] = m ? NaN : s * Infinity;
    else if (e === 0) t[b] = s * (m / (1 << mBits)) * 2 ** (1 - bias);
    else t[b] = s * (1 + m / (1 << mBits)) * 2 ** (e - bias);
  }
  return t;
}
const f8Tables = new Map<string, Float32Array>();

function outOfRange(name: string, dtype: StoredDType, v: bigint | number): TreeRewardError {
  return new TreeRewardError('NOT_SUPPORTED', `Expected ${dtype} values within the int32 range for "${name}" but found ${v}`);
}

function toInt32(bytes: Uint8Array, dtype: StoredDType, n: number, name: string): Int32Array {
  bytes = aligned(bytes);
  const ab = bytes.buffer, off = bytes.byteOffset;
  switch (dtype) {
    case 'I32': return new Int32Array(ab, off, n);
    case 'BOOL': return Int32Array.from(bytes.subarray(0, n), (v) => (v ? 1 : 0));
    case 'U8': return Int32Array.from(bytes.subarray(0, n));
    case 'I8': return Int32Array.from(new Int8Array(ab, off, n));
    case 'I16': return Int32Array.from(new Int16Array(ab, off, n));
    case 'U16': return Int32Array.from(new Uint16Array(ab, off, n));
    case 'U32': {
      const src = new Uint32Array(ab, off, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (src[i] > 0x7fffffff) throw outOfRange(name, dtype, src[i]);
        out[i] = src[i];
      }
      return out;
    }
    case 'I64':
    case 'U64': {
      const src = dtype === 'I64' ? new BigInt64Array(ab, off, n) : new BigUint64Array(ab, off, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) throw outOfRange(name, dtype, v);
        out[i] = Number(v);
      }
      return out;
    }
    default: throw new TreeRewardError('INTERNAL', `no integer decoder for ${dtype}`);
  }
}

/**
 * A tensor from the raw little-endian bytes of one stored entry (copied first when not 8-byte
 * aligned). Floats become `target`; integers int32
 * (values outside the int32 range are refused, naming the entry); F4/F6/C64 are not supported.
 */
export function bytesToTensor(bytes: Uint8Array, dtype: StoredDType, shape: number[], target: FloatTarget, name: string): Tensor {
  requireLittleEndian();
  const n = shape.reduce((a, b) => a * b, 1);
  if (INT_STORED.has(dtype)) {
    const data = toInt32(bytes, dtype, n, name);
    return wrapOp(() => native().fromArray(data, shape, 'int32'));
  }
  if (!FLOAT_STORED.has(dtype)) {
    throw new TreeRewardError('NOT_SUPPORTED', `Expected a float, integer or BOOL entry for "${name}" but it is ${dtype}, which the engine has no type for`);
  }
  const to: DType = target === 'keep' ? (KEEP[dtype] ?? 'float32') : target;
  bytes = aligned(bytes);
  const ab = bytes.buffer, off = bytes.byteOffset;
  switch (dtype) {
    case 'F32': return wrapOp(() => native().fromArray(new Float32Array(ab, off, n), shape, to));
    case 'F64': return wrapOp(() => native().fromArray(new Float64Array(ab, off, n), shape, to));
    case 'F16':
    case 'BF16': {
      const half = dtype === 'F16' ? 'float16' : 'bfloat16';
      const t = wrapOp(() => native().fromArray(new Uint16Array(ab, off, n), shape, half));
      if (to === half) return t;
      try {
        return t.to(to);
      } finally {
        t.dispose();
      }
    }
    default: {
      let table = f8Tables.get(dtype);
      if (!table) f8Tables.set(dtype, (table = f8Table(dtype as 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0')));
      const lut = table;
      const f = Float32Array.from(bytes.subarray(0, n), (b) => lut[b]);
      return wrapOp(() => native().fromArray(f, shape, to));
    }
  }
}

/** The stored bytes of a tensor: int32 as I32, floats as F32, F16, BF16 or (float64 kept) F64. */
export function tensorToBytes(t: Tensor, as: 'F32' | 'F16' | 'BF16' | 'keep'): { dtype: StoredDType; bytes: Uint8Array } {
  requireLittleEndian();
  const cpu = t.device === 'cpu' ? t : t.to('cpu');
  try {
    const d = cpu.dtype;
    if (d === 'int32') return { dtype: 'I32', bytes: view(cpu.toArray()) };
    const want = as === 'keep' ? ({ float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16' } as const)[d] : as;
    if (want === 'F64') return { dtype: 'F64', bytes: view(cpu.toArray()) };
    if (want === 'F32') return { dtype: 'F32', bytes: view(d === 'float32' ? cpu.toArray() : Float32Array.from(cpu.toArray())) };
    const half = want === 'F16' ? 'float16' : 'bfloat16';
    if (d === half) return { dtype: want, bytes: view(native().rawBits(cpu.handle)) };
    const c = cpu.to(half);
    try {
      return { dtype: want, bytes: view(native().rawBits(c.handle)) };
    } finally {
      c.dispose();
    }
  } finally {
    if (cpu !== t) cpu.dispose();
  }
}

/** Float bytes of one stored dtype as another (F32, F16 or BF16), converted by the engine (round to nearest even). */
export function convertFloatBytes(bytes: Uint8Array, from: StoredDType, n: number, to: 'F32' | 'F16' | 'BF16', name: string): Uint8Array {
  if (from === to) return bytes;
  const t = bytesToTensor(aligned(bytes), from, [n], 'keep', name);
  try {
    return tensorToBytes(t, to).bytes;
  } finally {
    t.dispose();
  }
}

/** `bytes` itself when it starts 8-byte aligned, else a copy that does (typed views need alignment). */
export function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
}

function view(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
