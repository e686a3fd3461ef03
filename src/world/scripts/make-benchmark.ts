// make-benchmark.ts: writes src/world/benchmark-prompts.json, the fixed benchmark (run once; the
// file is committed, and its `command` field records how it was made).
//   npx tsx src/world/scripts/make-benchmark.ts [--seed 20240611] [--per-dimension 100] [--out PATH]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCHMARK_PER_DIMENSION, BENCHMARK_SEED, generateBenchmark } from '../benchmark.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const seed = Number(arg('seed', String(BENCHMARK_SEED)));
const perDimension = Number(arg('per-dimension', String(BENCHMARK_PER_DIMENSION)));
const out = arg('out', fileURLToPath(new URL('../benchmark-prompts.json', import.meta.url)));
const file = generateBenchmark(seed, perDimension);
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${Object.values(file.prompts).reduce((n, l) => n + l.length, 0)} prompts to ${out}`);
