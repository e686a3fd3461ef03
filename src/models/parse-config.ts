// parse-config.ts: zod parsing of the encoder configs (BLIP, CLIP) with failures in the house form
// `Expected <what> for <name> but received <value>`, naming the first bad field by its path.

import { configError, parseWithSchema } from '../api/zod-errors.js';

export { configError } from '../api/zod-errors.js';

/** Parses `value` with `schema`; the first issue becomes an INVALID_ARGUMENT error naming `name.path`. */
export const parseConfig = parseWithSchema;

/** A preset by name, or the config object itself (named `label` in errors). */
export function presetOr<P extends Record<string, unknown>>(presets: P, source: unknown, kind: string, label = 'config'): { value: unknown; name: string } {
  if (typeof source === 'string') {
    if (!Object.hasOwn(presets, source)) throw configError(`a ${kind} preset (one of ${Object.keys(presets).join(', ')})`, label, source);
    return { value: presets[source], name: source };
  }
  if (source === null || typeof source !== 'object') throw configError(`a ${kind} preset name or config object`, label, source);
  return { value: source, name: label };
}
