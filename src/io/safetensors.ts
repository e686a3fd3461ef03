// safetensors.ts: read and write the safetensors format (an 8-byte little-endian header length, a
// JSON header of {name: {dtype, shape, data_offsets}} and optional __metadata__, then the bytes).
// The header is validated before any tensor is made: size bound, offsets contiguous and inside
// the file, byte lengths consistent with shapes.
import { readFileSync, writeFileSync } from 'node:fs';

import { TreeRewardError } from '../native/errors.js';
import { tensor } from '../api/create.js';
import { Tensor } from '../api/tensor.js';
import { type DType } from '../api/dtype.js';

const MAX_HEADER = 100 * 1024 * 1024;
const SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8 };

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  entries: Map<string, SafetensorsEntry>;
  /** The data section (after the header). */
  data: Buffer;
}

function corrupt(path: string, what: string): TreeRewardError {
  return new TreeRewardError('CORRUPT_FILE', `Expected a valid safetensors file at ${path} but ${what}`);
}

export function parseSafetensors(buf: Buffer, path = '<buffer>'): SafetensorsFile {
  if (buf.length < 8) throw corrupt(path, `it has ${buf.length} bytes, fewer than the 8-byte header length`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > MAX_HEADER) throw corrupt(path, `its header claims ${n} bytes (the limit is ${MAX_HEADER})`);
  if (8 + n > buf.length) throw corrupt(path, `its header claims ${n} bytes but the file has ${buf.length - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw corrupt(path, `its header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw corrupt(path, 'its header is not a JSON object');
  const data = buf.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = new Map<string, SafetensorsEntry>();
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as SafetensorsEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw corrupt(path, `entry "${name}" lacks dtype, shape or data_offsets`);
    }
    const size = SIZES[e.dtype];
    if (!size) throw corrupt(path, `entry "${name}" has the unknown dtype ${e.dtype}`);
    if (e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw corrupt(path, `entry "${name}" has the shape [${e.shape}]`);
    const [a, b] = e.data_offsets;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a || b > data.length) {
      throw corrupt(path, `entry "${name}" has offsets [${a}, ${b}] outside the ${data.length} data bytes`);
    }
    const want = e.shape.reduce((p, q) => p * q, 1) * size;
    if (b - a !== want) throw corrupt(path, `entry "${name}" has ${b - a} bytes for shape [${e.shape}] of ${e.dtype} (expected ${want})`);
    entries.set(name, e);
    spans.push([a, b, name]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let at = 0;
  for (const [a, b, name] of spans) {
    if (a !== at) throw corrupt(path, `entry "${name}" starts at ${a}, expected ${at} (offsets must be contiguous)`);
    at = b;
  }
  if (at !== data.length) throw corrupt(path, `its entries cover ${at} of ${data.length} data bytes`);
  return { metadata, entries, data };
}

/** Converts one entry to a Tensor; float types become `dtype` (default float32), integers int32. */
export function entryToTensor(file: SafetensorsFile, name: string, dtype: DType = 'float32'): Tensor {
  const e = file.entries.get(name);
  if (!e) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a tensor named "${name}" in the file but found none`);
  const bytes = file.data.subarray(e.data_offsets[0], e.data_offsets[1]);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const n = e.shape.reduce((p, q) => p * q, 1);
  switch (e.dtype) {
    case 'F32': return tensor(new Float32Array(ab), e.shape, { dtype });
    case 'F64': return tensor(new Float64Array(ab), e.shape, { dtype });
    case 'F16':
    case 'BF16': {
      const bits = new Uint16Array(ab);
      const f = new Float32Array(n);
      const dv = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) f[i] = e.dtype === 'BF16' ? (dv.setUint32(0, bits[i] << 16, true), dv.getFloat32(0, true)) : halfToFloat(bits[i]);
      return tensor(f, e.shape, { dtype });
    }
    case 'I64': {
      const v = new BigInt64Array(ab);
      return tensor(Int32Array.from(v, (x) => Number(x)), e.shape, { dtype: 'int32' });
    }
    case 'I32': return tensor(new Int32Array(ab), e.shape, { dtype: 'int32' });
    default: throw new TreeRewardError('NOT_SUPPORTED', `Expected a float or integer tensor for "${name}" but it is ${e.dtype}`);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function readSafetensors(path: string, dtype: DType = 'float32'): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`);
  }
  const file = parseSafetensors(buf, path);
  const tensors = new Map<string, Tensor>();
  for (const name of file.entries.keys()) tensors.set(name, entryToTensor(file, name, dtype));
  return { tensors, metadata: file.metadata };
}

/** Writes tensors as F32 (float32/float64/bf16/f16 are written as F32 unless `asHalf`) or I32. */
export function writeSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let at = 0;
  for (const name of [...m.keys()].sort()) {
    const t = m.get(name)!;
    const arr = t.dtype === 'int32' ? (t.toArray() as Int32Array) : Float32Array.from(t.toArray());
    const b = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    header[name] = { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data_offsets: [at, at + b.length] };
    chunks.push(b);
    at += b.length;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...chunks]));
}
