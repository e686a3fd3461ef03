// run-errors.ts: how long runs (sampling, training) stop early. The engine's error codes have no
// ABORTED or DIVERGED, so both are TreeRewardError with code INVALID_ARGUMENT and a message that says
// what happened; an abort carries the signal's reason as its `cause`, so callers can tell the two
// apart with `signal.aborted` or `err.cause`.
import { TreeRewardError, type ErrorCode } from '../native/errors.js';

/** The code of an aborted run. */
export const ABORTED_CODE: ErrorCode = 'INVALID_ARGUMENT';
/** The code of a run stopped by a loss or gradient that is not finite. */
export const DIVERGED_CODE: ErrorCode = 'INVALID_ARGUMENT';

/** Throws if the signal has fired: `Expected <what> to run to the end but it was aborted <where> (options.signal)[; <hint>]`. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, where: string, hint?: string): void {
  if (!signal?.aborted) return;
  throw new TreeRewardError(ABORTED_CODE, `Expected ${what} to run to the end but it was aborted ${where} (options.signal)${hint ? `; ${hint}` : ''}`, { cause: signal.reason });
}

/** Lets timers and signal handlers run between steps of a long synchronous computation. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
