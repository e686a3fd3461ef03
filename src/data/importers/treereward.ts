// treereward.ts: the store's own JSONL (see store/jsonl-export.ts) read back: a round trip keeps
// every field but the store-local ids. Stored images are read from their exported path and stored
// byte for byte; a pair without a key gets one from its content, so a rerun adds nothing twice.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CHOICES, CLEAN_LABELS, type ImageSource } from '../types.js';
import { describeValue, recordKey, RowError } from './fields.js';
import type { MappedPair, MapContext, PairImporter } from './importer.js';

const image = z.object({
  path: z.string().min(1),
  stored: z.boolean(),
  sha256: z.string().nullable(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
});
const side = z.object({ prompt: z.string(), image });
const line = z.object({
  key: z.string().nullable(),
  dimension: z.string().min(1),
  strategy: z.string().min(1),
  annotator: z.string(),
  labelled: z.boolean(),
  fromAnnotations: z.boolean().default(false),
  tie: z.boolean(),
  cleanLabel: z.enum(CLEAN_LABELS).nullable(),
  seed: z.number().int().nullable(),
  createdAt: z.number().int(),
  preferred: side,
  rejected: side,
  annotations: z.array(z.object({
    annotator: z.string().min(1),
    choice: z.enum(CHOICES),
    createdAt: z.number().int(),
    timeSpentMs: z.number().nonnegative(),
  })).default([]),
});

function valueAt(row: unknown, path: PropertyKey[]): unknown {
  let v = row;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function sourceOf(img: z.infer<typeof image>, name: string): ImageSource {
  if (!img.stored) return { path: img.path, sha256: img.sha256 ?? undefined, width: img.width ?? undefined, height: img.height ?? undefined };
  try {
    return { bytes: readFileSync(img.path) };
  } catch {
    throw new RowError(`Expected a readable image file for ${name}.image.path but received ${JSON.stringify(img.path)} (missing)`);
  }
}

export const treerewardImporter: PairImporter = {
  format: 'treereward',
  description: "treereward's own JSONL (what `treereward data export` writes)",
  mapRow(row: Record<string, unknown>, context: MapContext): MappedPair[] {
    const parsed = line.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.path.map(String).join('.');
      const expected = 'expected' in issue && typeof issue.expected === 'string' ? `a ${issue.expected}` : issue.message;
      throw new RowError(`Expected ${expected} for ${path} but received ${describeValue(valueAt(row, issue.path))}`);
    }
    const p = parsed.data;
    // The file's own dimension wins unless the user asked for another than the default.
    const dimension = context.dimension === 'overall' ? p.dimension : context.dimension;
    const key = p.key ?? recordKey('treereward', dimension, [p.preferred.prompt, p.preferred.image.sha256 ?? p.preferred.image.path,
      p.rejected.prompt, p.rejected.image.sha256 ?? p.rejected.image.path, p.strategy, p.annotator, p.tie, p.seed, p.createdAt]);
    return [{
      pair: {
        dimension,
        preferred: { prompt: p.preferred.prompt, image: sourceOf(p.preferred.image, 'preferred') },
        rejected: { prompt: p.rejected.prompt, image: sourceOf(p.rejected.image, 'rejected') },
        strategy: p.strategy, annotator: p.annotator, tie: p.tie, cleanLabel: p.cleanLabel ?? undefined,
        seed: p.seed ?? undefined, createdAt: p.createdAt, fromAnnotations: p.fromAnnotations, key,
      },
      queued: !p.labelled,
      annotations: p.annotations,
    }];
  },
};
