// benchmark.ts: the fixed fine-grained benchmark (100 prompts per dimension, generated once by
// src/world/scripts/make-benchmark.ts and committed as benchmark-prompts.json) and training prompts
// drawn so that none of them is a benchmark prompt.
import { readFileSync } from 'node:fs';
import { DIMENSIONS } from '../api/interfaces.js';
import type { Dimension } from '../api/interfaces.js';
import { stressPrompt } from './prompt-sets.js';
import { deriveSeed } from './random.js';

export interface BenchmarkFile {
  description: string;
  command: string;
  seed: number;
  perDimension: number;
  prompts: Record<Dimension, string[]>;
}

export const BENCHMARK_SEED = 20240611;
export const BENCHMARK_PER_DIMENSION = 100;
const BENCHMARK_URL = new URL('./benchmark-prompts.json', import.meta.url);

/** The benchmark's prompts for dimension `dim`, drawn from `seed` (what make-benchmark.ts writes). */
export function generateBenchmark(seed = BENCHMARK_SEED, perDimension = BENCHMARK_PER_DIMENSION): BenchmarkFile {
  const seen = new Set<string>();
  const prompts = {} as Record<Dimension, string[]>;
  for (const dim of DIMENSIONS) {
    const list: string[] = [];
    for (let i = 0; list.length < perDimension; i++) {
      if (i > 100 * perDimension) throw new Error(`Expected ${perDimension} distinct ${dim} prompts but the vocabulary yields only ${list.length}`);
      const p = stressPrompt(dim, deriveSeed(seed, `benchmark:${dim}:${i}`));
      if (seen.has(p)) continue;
      seen.add(p);
      list.push(p);
    }
    prompts[dim] = list;
  }
  return {
    description: 'TreeReward world benchmark: prompts stressing one dimension each (objects and that dimension always named, other attributes half of the time).',
    command: `npx tsx src/world/scripts/make-benchmark.ts --seed ${seed} --per-dimension ${perDimension}`,
    seed,
    perDimension,
    prompts,
  };
}

let cached: BenchmarkFile | undefined;

/** The committed benchmark. */
export function loadBenchmark(): BenchmarkFile {
  if (!cached) cached = JSON.parse(readFileSync(BENCHMARK_URL, 'utf8')) as BenchmarkFile;
  return cached;
}

let benchmarkSet: Set<string> | undefined;

export function isBenchmarkPrompt(prompt: string): boolean {
  if (!benchmarkSet) benchmarkSet = new Set(DIMENSIONS.flatMap((d) => loadBenchmark().prompts[d]));
  return benchmarkSet.has(prompt);
}

/**
 * A training prompt stressing `dimension`, drawn from `seed`: never a benchmark prompt (a draw that
 * hits one is redrawn).
 */
export function trainingPrompt(dimension: Dimension, seed: number): string {
  for (let attempt = 0; ; attempt++) {
    const p = stressPrompt(dimension, deriveSeed(seed, `train:${dimension}:${attempt}`));
    if (!isBenchmarkPrompt(p)) return p;
  }
}
