// ops.test.ts: every op's forward (float64 and float32) against the reference loops, its
// backward against finite differences, and its error messages, from the declarative cases.
import { describe, expect, it } from 'vitest';

import { TreeRewardError } from '../../src/index.js';
import { checkBackward, checkForward } from '../helpers/gradcheck.js';
import { ERROR_CASES, OP_CASES } from './cases.js';

describe('ops: forward against the float64 reference', () => {
  for (const c of OP_CASES) it(c.name, () => checkForward(c));
});

describe('ops: backward against finite differences (float64)', () => {
  for (const c of OP_CASES.filter((c) => !c.noGrad)) it(c.name, () => checkBackward(c));
});

describe('ops: bad arguments give coded errors with exact messages', () => {
  for (const c of ERROR_CASES) {
    it(c.name, () => {
      let caught: unknown;
      try {
        c.run();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(TreeRewardError);
      expect((caught as TreeRewardError).code).toBe(c.code);
      expect((caught as TreeRewardError).message).toBe(c.message);
    });
  }
});
