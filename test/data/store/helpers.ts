// helpers.ts: temporary stores, small images and pair records for the store tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RgbImage } from '../../../src/api/interfaces.js';
import { FeedbackStore, type OpenOptions } from '../../../src/data/store/feedback-store.js';
import type { PairRecord } from '../../../src/data/types.js';

const dirs: string[] = [];

export function tempDir(prefix = 'treereward-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempStore(options?: OpenOptions): FeedbackStore {
  return FeedbackStore.open(tempDir(), options);
}

/** A small image filled with a gradient from `seed`, so different seeds give different pixels. */
export function image(seed: number, size = 8): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed * 31) & 255;
  return { width: size, height: size, data };
}

export function record(i: number, overrides: Partial<PairRecord> = {}): PairRecord {
  const prompt = `a red star and a blue ring, variant ${i % 7}`;
  return {
    dimension: 'lighting',
    preferred: { prompt, image: image(2 * i) },
    rejected: { prompt, image: image(2 * i + 1) },
    strategy: 'weak-generator',
    annotator: 'rule',
    tie: false,
    seed: i,
    ...overrides,
  };
}
