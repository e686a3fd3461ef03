// errors.ts: the one error class the package throws, with a machine-readable `code`.
// Native errors arrive with a code set by the binding; callNative() rethrows them as
// TreeRewardError from the JavaScript call site, so the stack shows the user's code.

export const ERROR_CODES = [
  'SHAPE_MISMATCH', 'DTYPE', 'DEVICE', 'OUT_OF_MEMORY', 'CUDA_UNAVAILABLE', 'CUDA_ERROR', 'INVALID_ARGUMENT',
  'NO_GRAPH', 'DISPOSED', 'NOT_SUPPORTED', 'IO', 'CORRUPT_FILE', 'INTERNAL', 'NATIVE_LOAD',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class TreeRewardError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TreeRewardError';
    this.code = code;
  }
}

/** Formats a value for an error message: arrays as [a, b], strings quoted, objects by kind. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.length <= 8 ? `[${v.map(describeValue).join(', ')}]` : `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as { length: number }).length}`;
  if (typeof v === 'function') return 'a function';
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** `Expected <what> for <name> but received <value>`, the message form of every argument check. */
export function expected(what: string, name: string, value: unknown, code: ErrorCode = 'INVALID_ARGUMENT'): TreeRewardError {
  return new TreeRewardError(code, `Expected ${what} for ${name} but received ${describeValue(value)}`);
}

/** Runs a native call; a native Error with a code becomes a TreeRewardError thrown from here. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err);
  }
}

export function fromNative(err: unknown): unknown {
  if (err instanceof TreeRewardError) return err;
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
    const code = (err as unknown as { code: string }).code;
    const known = (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
    const wrapped = new TreeRewardError(known, err.message);
    Error.captureStackTrace?.(wrapped, callNative);
    return wrapped;
  }
  return err;
}
