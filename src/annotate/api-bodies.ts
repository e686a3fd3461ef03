// api-bodies.ts: the JSON bodies the API accepts (zod), and zod issues in the house error form:
// "Expected <what> for <name> but received <value>".
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { SHOWN_CHOICES } from './task-source.js';

export const LEASE_ID = /^[A-Za-z0-9_-]{22}$/;

const name = z.string().trim().min(1).max(200);

export const leaseBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pair'), dimension: name.optional() }),
  z.strictObject({ kind: z.literal('ab'), set: name }),
]);

export const labelBody = z.strictObject({
  lease: z.string().regex(LEASE_ID),
  choice: z.enum(SHOWN_CHOICES),
  /** What the page measured from showing the images to the click. */
  timeSpentMs: z.number().finite().nonnegative().max(86_400_000).optional(),
});

const base64Png = z.string().min(8).max(32 * 1024 * 1024).regex(/^[A-Za-z0-9+/]+={0,2}$/);

export const abSetBody = z.strictObject({
  name,
  modelA: name,
  modelB: name,
  labelsPerItem: z.number().int().positive().nullable().optional(),
  items: z.array(z.strictObject({
    prompt: z.string().min(1).max(10_000),
    dimension: name.nullable().optional(),
    key: name.optional(),
    /** The image of model A: PNG (or JPEG, WebP) bytes, base64. */
    a: base64Png,
    b: base64Png,
  })).min(1).max(20_000),
});

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'the body';
  switch (issue.code) {
    case 'invalid_type':
      return `Expected ${issue.expected} for ${where} but received ${shown(issue.input)}`;
    case 'invalid_value':
      return `Expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')} for ${where} but received ${shown(issue.input)}`;
    case 'unrecognized_keys':
      return `Expected no other keys in ${where} but received ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union':
      if ((issue as { note?: string }).note === 'No matching discriminator') {
        return `Expected "pair" or "ab" for kind but received ${shown((issue.input as Record<string, unknown> | undefined)?.kind)}`;
      }
      return `Expected a body of one of the documented forms for ${where} but received ${shown(issue.input)}`;
    case 'invalid_format':
      return `Expected ${issue.format === 'regex' ? `a string matching ${issue.pattern}` : issue.format} for ${where} but received ${shown(issue.input)}`;
    case 'too_small':
    case 'too_big':
      return `Expected ${issue.message.replace(/^Too (small|big): expected /, '').replace(/^.*?expected /, '')} for ${where} but received ${shown(issue.input)}`;
    default:
      return `Expected a valid value for ${where} but received ${shown(issue.input)} (${issue.message})`;
  }
}

/** The parsed body, or an ApiError(400) naming the first problem. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) throw new ApiError(400, describe(r.error.issues[0]));
  return r.data;
}
