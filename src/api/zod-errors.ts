// zod-errors.ts: zod's first issue as the house message, `Expected <what> for <name.path> but
// received <value>`, as a TreeRewardError (INVALID_ARGUMENT). Every zod-validated config uses it.
import type { z } from 'zod';

import { describeValue, TreeRewardError } from '../native/errors.js';

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** What the issue expected, in words: "an integer", "a value >= 1", "one of \"a\", \"b\"". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : /^[aeiou]/.test(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `at least ${String(issue.minimum)} entries` : `a value ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' ? `at most ${String(issue.maximum)} entries` : `a value ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `no unknown keys (${issue.keys.join(', ')})`;
    case 'invalid_union':
      return 'an integer or an array of integers';
    default:
      return issue.message.replace(/^Invalid input: expected /, '').replace(/^./, (c) => c.toLowerCase());
  }
}

/** `Expected <what> for <name> but received <value>`, INVALID_ARGUMENT. */
export function configError(what: string, name: string, value: unknown): TreeRewardError {
  return new TreeRewardError('INVALID_ARGUMENT', `Expected ${what} for ${name} but received ${describeValue(value)}`);
}

/** Parses `value` with `schema`; the first issue becomes an error naming `name.path`. */
export function parseWithSchema<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.length ? `${name}.${issue.path.map(String).join('.')}` : name;
  const received = issue.code === 'unrecognized_keys' ? issue.keys : valueAt(value, issue.path);
  throw configError(describeIssue(issue), path, received);
}
