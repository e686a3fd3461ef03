// config-check.ts: zod schemas' failures as the house message, `Expected <what> for <name> but
// received <value>`, with the path to the offending field in <name>.
import type { z } from 'zod';

import { describeValue, TreeRewardError } from '../native/errors.js';

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function what(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : /^[aeiou]/.test(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `${issue.origin === 'array' ? 'a length' : 'a value'} ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.origin === 'array' ? 'a length' : 'a value'} ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `no keys other than the known ones (unknown: ${issue.keys.join(', ')})`;
    default:
      return issue.message.replace(/^Invalid input: expected /, '').replace(/^./, (c) => c.toLowerCase());
  }
}

/** Parses value with schema; the first issue becomes a TreeRewardError (INVALID_ARGUMENT) naming its path. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.length ? `${name}.${issue.path.map(String).join('.')}` : name;
  return fail(`Expected ${what(issue)} for ${path} but received ${describeValue(at(value, issue.path))}`);
}

function fail(message: string): never {
  throw new TreeRewardError('INVALID_ARGUMENT', message);
}
