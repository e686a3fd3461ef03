// error-of.ts: the error a call throws, for tests that check its code and message together.
import type { TreeRewardError } from '../../src/index.js';

export function errorOf(fn: () => unknown): TreeRewardError {
  try {
    fn();
  } catch (e) {
    return e as TreeRewardError;
  }
  throw new Error('expected an error');
}
