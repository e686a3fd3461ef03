// jsonl-export.ts: the store as JSON lines, one pair per line with its prompts, images and
// annotations. Stored images are written with their absolute path and sha256, so importing the file
// into another store (format "treereward") copies them byte for byte; references stay references.
// Ids are store-local and left out.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Choice, CleanLabel, Split, StoredPair, StoredSide } from '../types.js';
import type { FeedbackStore } from './feedback-store.js';

export interface PairLineImage {
  path: string;
  stored: boolean;
  sha256: string | null;
  width: number | null;
  height: number | null;
}

export interface PairLine {
  key: string | null;
  dimension: string;
  split: Split;
  strategy: string;
  annotator: string;
  labelled: boolean;
  fromAnnotations: boolean;
  tie: boolean;
  cleanLabel: CleanLabel | null;
  seed: number | null;
  createdAt: number;
  preferred: { prompt: string; image: PairLineImage };
  rejected: { prompt: string; image: PairLineImage };
  annotations: { annotator: string; choice: Choice; createdAt: number; timeSpentMs: number }[];
}

export function pairLine(store: FeedbackStore, pair: StoredPair): PairLine {
  const side = (s: StoredSide): PairLine['preferred'] => ({
    prompt: s.prompt,
    image: { path: store.imagePath(s.image), stored: s.image.stored, sha256: s.image.sha256, width: s.image.width, height: s.image.height },
  });
  return {
    key: pair.key, dimension: pair.dimension, split: pair.split, strategy: pair.strategy, annotator: pair.annotator,
    labelled: pair.labelled, fromAnnotations: pair.fromAnnotations, tie: pair.tie, cleanLabel: pair.cleanLabel, seed: pair.seed,
    createdAt: pair.createdAt, preferred: side(pair.preferred), rejected: side(pair.rejected),
    annotations: store.annotationsOf(pair.id).map((a) => ({ annotator: a.annotator, choice: a.choice, createdAt: a.createdAt, timeSpentMs: a.timeSpentMs })),
  };
}

/** Writes every pair (optionally of one dimension) to `file`; returns the number of lines. */
export async function exportJsonl(store: FeedbackStore, file: string, options: { dimension?: string; onProgress?: (lines: number) => void } = {}): Promise<number> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  let lines = 0;
  try {
    for (const pair of store.iteratePairs({ dimension: options.dimension })) {
      if (!out.write(`${JSON.stringify(pairLine(store, pair))}\n`)) await once(out, 'drain');
      lines++;
      if (lines % 10_000 === 0) options.onProgress?.(lines);
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  options.onProgress?.(lines);
  return lines;
}
