// values.ts: the Python values a restricted unpickler can produce. Nothing here can run code:
// globals are names (resolved against a whitelist by the caller's hooks), and every other record
// is plain data.

/** Keys a dict may have: Python's hashable scalars. */
export type PyKey = string | number | bigint | boolean | null;

/** Base of the records a hook makes (tensor and storage references, type markers). */
export abstract class PyRecord {
  abstract describe(): string;
}

export type PyValue = PyKey | Uint8Array | PyValue[] | PyTuple | PyDict | PySet | PyRecord;

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`, for instance). */
  attrs: PyValue = null;
  constructor(readonly ordered = false) {}
}

export class PySet {
  constructor(readonly items: PyValue[], readonly frozen = false) {}
}

export function isPyKey(v: PyValue): v is PyKey {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** A short description of a value for error messages: its Python type. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  return v.describe();
}
