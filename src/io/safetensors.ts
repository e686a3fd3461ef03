// safetensors.ts: reading safetensors files (header spec and validation in safetensors-header.ts).
//
// How the bytes are read: the header first (8 + its length), then each tensor's byte range with one
// positioned fs.read into a fresh buffer that the engine copies from, so a 4 GB file never sits in
// memory at once (at most one tensor's bytes beside the tensors already made). We chose this over a
// native mmap: it touches the same bytes with one extra memcpy per tensor, works unchanged in both
// native builds, and a file that shrinks while it is read gives a short read, which becomes a
// CORRUPT_FILE error; through a memory map the same file would raise SIGBUS and kill the process.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { expected, TreeRewardError } from '../native/errors.js';
import { type Tensor } from '../api/tensor.js';
import { type DType } from '../api/dtype.js';
import { bytesToTensor, type FloatTarget, type StoredDType } from './dtypes.js';
import { corruptSafetensors, headerLength, parseHeader, type SafetensorsEntry } from './safetensors-header.js';

export { MAX_HEADER, type SafetensorsEntry, type SafetensorsHeader } from './safetensors-header.js';
export { writeSafetensors, writeSafetensorsStreaming, type RawEntry, type PlannedEntry, type WriteDType, type WriteOptions } from './safetensors-write.js';

const FLOAT_TARGETS = ['float32', 'float64', 'bfloat16', 'float16', 'keep'] as const;

export interface ReadOptions {
  /** How float entries become tensors: an engine float dtype, or 'keep' (F16 -> float16, BF16 -> bfloat16, F64 -> float64, others float32). Defaults to float32. Integer and BOOL entries become int32. */
  dtype?: FloatTarget;
  /** Reads only the entries it accepts. Defaults to all. */
  filter?: (name: string) => boolean;
  /** Called after each tensor is read. */
  onProgress?: (p: { done: number; total: number; bytes: number; totalBytes: number }) => void;
}

function checkTarget(dtype: unknown): FloatTarget {
  if (!(FLOAT_TARGETS as readonly unknown[]).includes(dtype)) throw expected(`one of ${FLOAT_TARGETS.join(', ')}`, 'dtype', dtype);
  return dtype as FloatTarget;
}

function ioError(path: string, e: unknown): TreeRewardError {
  return new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
}

/** Fills `into` from `position`; a file that ends early is CORRUPT_FILE (what) rather than zeros. */
export function readFully(fd: number, into: Uint8Array, position: number, path: string, what: string): void {
  let got = 0;
  while (got < into.length) {
    let n: number;
    try {
      n = readSync(fd, into, got, into.length - got, position + got);
    } catch (e) {
      throw ioError(path, e);
    }
    if (n === 0) throw corruptSafetensors(path, `the file ended at byte ${position + got} while reading ${what} (it needs ${position + into.length})`);
    got += n;
  }
}

/** An open safetensors file: the validated header now, each tensor's bytes when asked. */
export class SafetensorsReader {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Entries in file order. */
  readonly entries: Map<string, SafetensorsEntry>;
  readonly fileSize: number;
  readonly #dataStart: number;
  #fd: number | null;

  private constructor(path: string, fd: number, fileSize: number) {
    this.path = path;
    this.#fd = fd;
    this.fileSize = fileSize;
    const first8 = new Uint8Array(8);
    if (fileSize >= 8) readFully(fd, first8, 0, path, 'the header length');
    const n = headerLength(first8, fileSize, path);
    const json = new Uint8Array(n);
    readFully(fd, json, 8, path, 'the header');
    const h = parseHeader(json, fileSize, path);
    this.metadata = h.metadata;
    this.entries = h.entries;
    this.#dataStart = h.dataStart;
  }

  /** Opens `path` and validates its header (CORRUPT_FILE when it is not a valid safetensors file, IO when it cannot be read). */
  static open(path: string): SafetensorsReader {
    if (typeof path !== 'string' || path === '') throw expected('a file path', 'path', path);
    let fd: number;
    let size: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw ioError(path, e);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new TreeRewardError('IO', `Expected a regular file at ${path} but it is not one`);
      size = st.size;
      return new SafetensorsReader(path, fd, size);
    } catch (e) {
      closeSync(fd);
      throw e instanceof TreeRewardError ? e : ioError(path, e);
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a tensor named "${name}" in ${this.path} but found none`);
    return e;
  }

  /** The entry's raw little-endian bytes, in a fresh (aligned) buffer. */
  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    if (this.#fd === null) throw new TreeRewardError('DISPOSED', `Expected an open reader for ${this.path} but it was closed`);
    const [a, b] = e.data_offsets;
    const out = new Uint8Array(b - a);
    readFully(this.#fd, out, this.#dataStart + a, this.path, `entry "${name}"`);
    return out;
  }

  /** One entry as a tensor; float entries become `dtype` (default float32), integers int32. */
  tensor(name: string, dtype: FloatTarget = 'float32'): Tensor {
    const target = checkTarget(dtype);
    const e = this.entry(name);
    return bytesToTensor(this.readBytes(name), e.dtype as StoredDType, e.shape, target, name);
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

export function openSafetensors(path: string): SafetensorsReader {
  return SafetensorsReader.open(path);
}

/**
 * Reads tensors from a safetensors file, one byte range at a time. Float entries become
 * `options.dtype` (default float32), integers int32. On any error the tensors made so far are
 * disposed and nothing is returned.
 */
export function readSafetensors(path: string, options: FloatTarget | ReadOptions = {}): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const o: ReadOptions = typeof options === 'string' ? { dtype: options } : options;
  const target = checkTarget(o.dtype ?? 'float32');
  const reader = SafetensorsReader.open(path);
  const tensors = new Map<string, Tensor>();
  try {
    const names = reader.names().filter((n) => !o.filter || o.filter(n));
    const sizeOf = (n: string) => reader.entries.get(n)!.data_offsets[1] - reader.entries.get(n)!.data_offsets[0];
    const totalBytes = names.reduce((s, n) => s + sizeOf(n), 0);
    let bytes = 0;
    for (const name of names) {
      tensors.set(name, reader.tensor(name, target));
      bytes += sizeOf(name);
      o.onProgress?.({ done: tensors.size, total: names.length, bytes, totalBytes });
    }
    return { tensors, metadata: reader.metadata };
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  } finally {
    reader.close();
  }
}

// ---- a whole file already in memory (the original API, kept) ----

export interface SafetensorsFile {
  metadata: Record<string, string>;
  entries: Map<string, SafetensorsEntry>;
  /** The data section (after the header). */
  data: Buffer;
}

/** Validates a whole safetensors file held in `buf` (same checks as the reader). */
export function parseSafetensors(buf: Buffer, path = '<buffer>'): SafetensorsFile {
  const n = headerLength(buf.subarray(0, 8), buf.length, path);
  const h = parseHeader(buf.subarray(8, 8 + n), buf.length, path);
  return { metadata: h.metadata, entries: h.entries, data: buf.subarray(h.dataStart) };
}

/** Converts one entry of a parsed file to a Tensor; float types become `dtype` (default float32), integers int32. */
export function entryToTensor(file: SafetensorsFile, name: string, dtype: DType | 'keep' = 'float32'): Tensor {
  const target = checkTarget(dtype);
  const e = file.entries.get(name);
  if (!e) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a tensor named "${name}" in the file but found none`);
  return bytesToTensor(file.data.subarray(e.data_offsets[0], e.data_offsets[1]), e.dtype as StoredDType, e.shape, target, name);
}
