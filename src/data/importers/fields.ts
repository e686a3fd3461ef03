// fields.ts: reading one source row's fields for the importers: typed getters that throw RowError with
// a reason in the house form, image references and embedded bytes, and the idempotency key.
import { isAbsolute, resolve } from 'node:path';
import { sha256Hex } from '../store/image-files.js';
import type { EncodedImage, ImageReference } from '../types.js';

/** A row that cannot be imported; the runner adds the line or row number. */
export class RowError extends Error {
  override name = 'RowError';
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The first of `names` present in the row (null counts as absent). */
export function pick(row: Record<string, unknown>, names: readonly string[]): { name: string; value: unknown } {
  for (const name of names) if (row[name] !== undefined && row[name] !== null) return { name, value: row[name] };
  return { name: names[0], value: undefined };
}

export function requireString(row: Record<string, unknown>, names: readonly string[]): string {
  const { name, value } = pick(row, names);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RowError(`Expected a non-empty string for ${names.join(' or ')} but received ${describeValue(value)}`);
  }
  void name;
  return value;
}

export function optionalString(row: Record<string, unknown>, names: readonly string[]): string | undefined {
  const { value } = pick(row, names);
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new RowError(`Expected a string for ${names.join(' or ')} but received ${describeValue(value)}`);
  return value;
}

export function requireNumber(row: Record<string, unknown>, names: readonly string[]): number {
  const { value } = pick(row, names);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RowError(`Expected a number for ${names.join(' or ')} but received ${describeValue(value)}`);
  }
  return value;
}

/** A list of numbers (Parquet lists arrive as arrays; JSON strings like "[1, 0]" are accepted too). */
export function requireNumberList(row: Record<string, unknown>, name: string, length?: number): number[] {
  let value = row[name];
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      /* reported below */
    }
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v)) || (length !== undefined && value.length !== length)) {
    throw new RowError(`Expected a list of ${length ?? ''}${length ? ' ' : ''}numbers for ${name} but received ${describeValue(row[name])}`);
  }
  return value as number[];
}

export function requireStringList(row: Record<string, unknown>, names: readonly string[], minLength: number): string[] {
  const { value } = pick(row, names);
  if (!Array.isArray(value) || value.length < minLength || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new RowError(`Expected a list of at least ${minLength} paths for ${names.join(' or ')} but received ${describeValue(value)}`);
  }
  return value as string[];
}

/** An image path from the data file, resolved against `imageRoot` unless absolute (or a URL). */
export function imageReference(path: string, imageRoot: string): ImageReference {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || isAbsolute(path)) return { path };
  return { path: resolve(imageRoot, path) };
}

/**
 * Embedded image bytes: a byte array (Parquet BYTE_ARRAY), a Hugging Face image struct
 * `{bytes, path}`, or base64 text (JSONL).
 */
export function imageBytes(row: Record<string, unknown>, name: string): EncodedImage {
  let value = row[name];
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && 'bytes' in value) {
    value = (value as { bytes: unknown }).bytes;
  }
  if (value instanceof Uint8Array && value.length > 0) return { bytes: value };
  if (typeof value === 'string' && value.length > 0 && /^[A-Za-z0-9+/=\s]+$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length > 0) return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
  }
  throw new RowError(`Expected image bytes (binary or base64) for ${name} but received ${describeValue(row[name])}`);
}

/** The idempotency key of an imported pair: the format, the dimension and a hash of what identifies it. */
export function recordKey(format: string, dimension: string, identity: unknown[]): string {
  return `${format}:${dimension}:${sha256Hex(JSON.stringify(identity)).slice(0, 40)}`;
}
