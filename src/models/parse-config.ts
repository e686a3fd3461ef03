// parse-config.ts: zod parsing of the encoder configs (BLIP, CLIP) with failures in the house form
// `Expected <what> for <name> but received <value>`, naming the first bad field by its path.
import { z } from 'zod';

import { describeValue, TreeRewardError } from '../native/errors.js';

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : /^[aeiou]/.test(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
    case 'too_small':
      return `a value ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `a value ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `no unknown keys (${issue.keys.join(', ')})`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message.replace(/^Invalid input: expected /, '').replace(/^./, (c) => c.toLowerCase());
  }
}

export function configError(what: string, name: string, value: unknown): TreeRewardError {
  return new TreeRewardError('INVALID_ARGUMENT', `Expected ${what} for ${name} but received ${describeValue(value)}`);
}

/** Parses `value` with `schema`; the first issue becomes an INVALID_ARGUMENT error naming `name.path`. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.length ? `${name}.${issue.path.map(String).join('.')}` : name;
  const received = issue.code === 'unrecognized_keys' ? issue.keys : valueAt(value, issue.path);
  throw new TreeRewardError('INVALID_ARGUMENT', `Expected ${describeIssue(issue)} for ${path} but received ${describeValue(received)}`);
}

/** A preset by name, or the config object itself (named `label` in errors). */
export function presetOr<P extends Record<string, unknown>>(presets: P, source: unknown, kind: string, label = 'config'): { value: unknown; name: string } {
  if (typeof source === 'string') {
    if (!Object.hasOwn(presets, source)) throw configError(`a ${kind} preset (one of ${Object.keys(presets).join(', ')})`, label, source);
    return { value: presets[source], name: source };
  }
  if (source === null || typeof source !== 'object') throw configError(`a ${kind} preset name or config object`, label, source);
  return { value: source, name: label };
}
