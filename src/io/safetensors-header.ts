// safetensors-header.ts: the safetensors header (an 8-byte little-endian length, then a JSON object
// {name: {dtype, shape, data_offsets}} with an optional "__metadata__" of strings) and its
// validation. Nothing is trusted: the length is bounded by MAX_HEADER and by the file, every entry's
// byte length must match its shape and dtype, and the entries must tile the data section exactly
// (contiguous from 0 to its end, no gap, no overlap).
import { TreeRewardError } from '../native/errors.js';
import { isStoredDType, storedByteLength, type StoredDType } from './dtypes.js';

/** The largest header accepted (the reference implementation's bound). */
export const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** [start, end) in bytes, relative to the start of the data section. */
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Entries in file order (by start offset). */
  entries: Map<string, SafetensorsEntry>;
  /** Where the data section starts in the file: 8 + the header length. */
  dataStart: number;
  /** Bytes in the data section. */
  dataLength: number;
}

export function corruptSafetensors(path: string, what: string): TreeRewardError {
  return new TreeRewardError('CORRUPT_FILE', `Expected a valid safetensors file at ${path} but ${what}`);
}

/** The header length from the first 8 bytes, checked against MAX_HEADER and the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < 8 || first8.length < 8) throw corruptSafetensors(path, `it has ${fileSize} bytes, fewer than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw corruptSafetensors(path, `its header claims ${n} bytes (the limit is ${MAX_HEADER})`);
  if (n > BigInt(fileSize - 8)) throw corruptSafetensors(path, `its header claims ${n} bytes but the file has ${fileSize - 8} after the length`);
  if (n < 2n) throw corruptSafetensors(path, `its header claims ${n} bytes, too few for a JSON object`);
  return Number(n);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses and validates the header JSON; `fileSize` bounds the data section. */
export function parseHeader(json: Uint8Array, fileSize: number, path: string): SafetensorsHeader {
  const dataStart = 8 + json.length;
  const dataLength = fileSize - dataStart;
  let text: string;
  try {
    text = utf8.decode(json);
  } catch {
    throw corruptSafetensors(path, 'its header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw corruptSafetensors(path, `its header does not start with "{" (it starts with ${JSON.stringify(text.slice(0, 16))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw corruptSafetensors(path, `its header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw corruptSafetensors(path, 'its header is not a JSON object');

  const metadata: Record<string, string> = {};
  const spans: [number, number, string, SafetensorsEntry][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw corruptSafetensors(path, 'its __metadata__ is not an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw corruptSafetensors(path, `its __metadata__ value "${k}" is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    spans.push(checkEntry(name, v, dataLength, path));
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [a, b, name] of spans) {
    if (a < at) throw corruptSafetensors(path, `entry "${name}" starts at ${a}, inside the previous entry (which ends at ${at})`);
    if (a > at) throw corruptSafetensors(path, `entry "${name}" starts at ${a}, expected ${at} (offsets must be contiguous)`);
    at = b;
  }
  if (at !== dataLength) throw corruptSafetensors(path, `its entries cover ${at} of ${dataLength} data bytes`);
  return { metadata, entries: new Map(spans.map(([, , name, e]) => [name, e])), dataStart, dataLength };
}

function checkEntry(name: string, v: unknown, dataLength: number, path: string): [number, number, string, SafetensorsEntry] {
  const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object' || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
    throw corruptSafetensors(path, `entry "${name}" lacks dtype, shape or data_offsets`);
  }
  if (!isStoredDType(e.dtype)) throw corruptSafetensors(path, `entry "${name}" has the unknown dtype ${e.dtype}`);
  const shape = e.shape as unknown[];
  if (shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) throw corruptSafetensors(path, `entry "${name}" has the shape ${JSON.stringify(shape)}`);
  const numel = (shape as number[]).reduce((p, q) => p * q, 1);
  const [a, b] = e.data_offsets as unknown[];
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || (a as number) < 0 || (b as number) < (a as number) || (b as number) > dataLength) {
    throw corruptSafetensors(path, `entry "${name}" has offsets [${a}, ${b}] outside the ${dataLength} data bytes`);
  }
  const want = Number.isSafeInteger(numel) ? storedByteLength(e.dtype as StoredDType, numel) : null;
  if (want === null) throw corruptSafetensors(path, `entry "${name}" has the shape [${shape}], which does not fill whole bytes of ${e.dtype}`);
  if ((b as number) - (a as number) !== want) {
    throw corruptSafetensors(path, `entry "${name}" has ${(b as number) - (a as number)} bytes for shape [${shape}] of ${e.dtype} (expected ${want})`);
  }
  return [a as number, b as number, name, { dtype: e.dtype, shape: shape as number[], data_offsets: [a as number, b as number] }];
}
