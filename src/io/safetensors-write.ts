// safetensors-write.ts: writing safetensors files, with metadata, in float32 or half precision
// (F16/BF16, for shipped assets). Bytes are written one tensor at a time into PATH.partial, which
// is renamed over PATH only when complete: a crash never leaves a truncated file under the name.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

import { describeValue, expected, TreeRewardError } from '../native/errors.js';
import { Tensor } from '../api/tensor.js';
import { isStoredDType, storedByteLength, tensorToBytes, type StoredDType } from './dtypes.js';

/** How float tensors are stored: F32 (the default), F16, BF16, or 'keep' (each tensor's own dtype). int32 tensors are always I32. */
export type WriteDType = 'F32' | 'F16' | 'BF16' | 'keep';
const WRITE_DTYPES: readonly WriteDType[] = ['F32', 'F16', 'BF16', 'keep'];

export interface WriteOptions {
  /** Defaults to 'F32'. */
  dtype?: WriteDType;
}

/** Bytes already in a stored dtype (written as they are, whatever `dtype` says). */
export interface RawEntry {
  dtype: StoredDType;
  shape: number[];
  data: Uint8Array;
}

/** An entry whose bytes are produced when it is written. */
export interface PlannedEntry {
  name: string;
  dtype: StoredDType;
  shape: number[];
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name === '__metadata__') throw expected('a non-empty tensor name other than "__metadata__"', 'a tensor name', name);
  return name;
}

function checkMetadata(metadata: unknown): Record<string, string> {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw expected('an object of strings', 'metadata', metadata);
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw expected('a string', `metadata "${k}"`, v);
  return metadata as Record<string, string>;
}

function byteLength(e: PlannedEntry): number {
  if (!isStoredDType(e.dtype)) throw expected('a safetensors dtype', `the dtype of "${e.name}"`, e.dtype);
  if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw expected('a shape of non-negative integers', `the shape of "${e.name}"`, e.shape);
  const n = storedByteLength(e.dtype, e.shape.reduce((a, b) => a * b, 1));
  if (n === null) throw expected('a shape that fills whole bytes', `the shape of "${e.name}" (${e.dtype})`, e.shape);
  return n;
}

/** The header bytes (length + JSON padded with spaces so the data starts 8-byte aligned). */
function headerBytes(planned: PlannedEntry[], lengths: number[], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let at = 0;
  planned.forEach((e, i) => {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + lengths[i]] };
    at += lengths[i];
  });
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
  const out = Buffer.alloc(8 + Buffer.byteLength(json));
  out.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  out.write(json, 8, 'utf8');
  return out;
}

class PartialFile {
  readonly tmp: string;
  fd: number;
  constructor(readonly path: string) {
    this.tmp = `${path}.partial`;
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw new TreeRewardError('IO', `Expected a writable path at ${path} but ${(e as Error).message}`, { cause: e });
    }
  }
  write(bytes: Uint8Array): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (e) {
      throw new TreeRewardError('IO', `Expected to write ${this.path} but ${(e as Error).message}`, { cause: e });
    }
  }
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.tmp, { force: true });
  }
}

function checkProduced(e: PlannedEntry, bytes: unknown, want: number): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw expected('a Uint8Array', `the bytes of "${e.name}"`, bytes);
  if (bytes.length !== want) throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${want} bytes for "${e.name}" (${e.dtype} [${e.shape}]) but received ${bytes.length}`);
  return bytes;
}

/**
 * Writes entries whose bytes are produced one at a time by `bytesOf` (in the order given), so a
 * converter never holds more than one tensor's bytes. The header is written first from the plan.
 */
export async function writeSafetensorsStreaming(
  path: string,
  planned: PlannedEntry[],
  metadata: Record<string, string>,
  bytesOf: (entry: PlannedEntry, index: number) => Uint8Array | Promise<Uint8Array>,
): Promise<void> {
  const seen = new Set<string>();
  for (const e of planned) {
    if (seen.has(checkName(e.name))) throw expected('unique tensor names', 'the entries', e.name);
    seen.add(e.name);
  }
  const lengths = planned.map(byteLength);
  const out = new PartialFile(path);
  try {
    out.write(headerBytes(planned, lengths, checkMetadata(metadata)));
    for (let i = 0; i < planned.length; i++) out.write(checkProduced(planned[i], await bytesOf(planned[i], i), lengths[i]));
    out.commit();
  } catch (e) {
    out.abandon();
    throw e;
  }
}

function plannedDType(t: Tensor, as: WriteDType): StoredDType {
  if (t.dtype === 'int32') return 'I32';
  if (as !== 'keep') return as;
  return ({ float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16' } as const)[t.dtype];
}

/**
 * Writes tensors (sorted by name) with optional string metadata. Float tensors are stored as
 * `options.dtype` (default F32); int32 as I32; RawEntry values as they are.
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor | RawEntry> | Record<string, Tensor | RawEntry>,
  metadata: Record<string, string> = {},
  options: WriteOptions = {},
): void {
  const as = options.dtype ?? 'F32';
  if (!WRITE_DTYPES.includes(as)) throw expected(`one of ${WRITE_DTYPES.join(', ')}`, 'dtype', as);
  const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...m.keys()].map(checkName).sort();
  const planned: PlannedEntry[] = names.map((name) => {
    const v = m.get(name);
    if (v instanceof Tensor) return { name, dtype: plannedDType(v, as), shape: v.shape };
    if (v && typeof v === 'object' && 'data' in v && 'dtype' in v && 'shape' in v) return { name, dtype: v.dtype, shape: v.shape };
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected a Tensor or {dtype, shape, data} for "${name}" but received ${describeValue(v)}`);
  });
  const lengths = planned.map(byteLength);
  const out = new PartialFile(path);
  try {
    out.write(headerBytes(planned, lengths, checkMetadata(metadata)));
    planned.forEach((e, i) => {
      const v = m.get(e.name)!;
      const bytes = v instanceof Tensor ? tensorToBytes(v, as).bytes : v.data;
      out.write(checkProduced(e, bytes, lengths[i]));
    });
    out.commit();
  } catch (e) {
    out.abandon();
    throw e;
  }
}
