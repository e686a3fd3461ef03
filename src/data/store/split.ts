// split.ts: train/validation/test by prompt. A prompt's split is a pure function of its normalised
// text (sha256, first 32 bits as a fraction), so one prompt never lands in two splits, whichever
// pair, store or run it comes from.
import { createHash } from 'node:crypto';
import type { Split } from '../types.js';

/** Fractions of prompts per split; they must add up to 1. */
export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

/** Defaults to 80% train, 10% validation, 10% test. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.8, validation: 0.1, test: 0.1 };

/** Case and whitespace do not make a new prompt: "A red  star" and "a red star" share a split. */
export function normalisePrompt(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The prompt's position in [0, 1), from the first 32 bits of sha256 of its normalised text. */
export function promptHashFraction(text: string): number {
  const digest = createHash('sha256').update(normalisePrompt(text)).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function splitOfPrompt(text: string, fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS): Split {
  const u = promptHashFraction(text);
  if (u < fractions.train) return 'train';
  if (u < fractions.train + fractions.validation) return 'validation';
  return 'test';
}

export function checkSplitFractions(fractions: SplitFractions): void {
  for (const name of ['train', 'validation', 'test'] as const) {
    const v = fractions[name];
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw new Error(`Expected a fraction in [0, 1] for splitFractions.${name} but received ${v}`);
    }
  }
  const sum = fractions.train + fractions.validation + fractions.test;
  if (Math.abs(sum - 1) > 1e-9) {
    throw new Error(`Expected split fractions that add up to 1 for splitFractions but received ${sum}`);
  }
}
