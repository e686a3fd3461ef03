// suite.ts: evaluates several generators on the same prompts and seeds, chunk by chunk: each
// generator draws the chunk's images, the judges (and CLIP, the aesthetic predictor and reward
// models, where given) score them, and the simulated expert compares the requested pairs of
// generators image against image. Each finished chunk is appended to a JSONL file as one line, so an
// interrupted evaluation resumes at the first missing chunk; images are kept only where asked (the
// report's grids), so memory stays bounded.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { Dimension, Judge, RgbImage } from '../api/interfaces.js';
import { writePng } from '../diffusion/pipeline/rgb-images.js';
import type { RewardModel } from '../reward/reward-model.js';
import { SimulatedExpert, type ExpertOptions } from '../world/expert.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { deriveSeed, hashString } from '../world/random.js';
import { openGenerator, parseGeneratorSpec, type OpenedGenerator } from './generator-spec.js';
import { aestheticScores, type AestheticPredictor } from './metrics/aesthetic.js';
import { clipScores, type ImageTextEncoder } from './metrics/clip-score.js';
import { judgeAll } from './metrics/judge-scores.js';
import { rewardScores } from './metrics/reward-scores.js';
import type { EvalPrompt } from './prompts.js';
import type { ComparisonItem, EvalItem, GeneratorInfo } from './records.js';
import { expertOutcome } from './win-tie-loss.js';

export interface SuiteOptions {
  generators: GeneratorInfo[];
  prompts: EvalPrompt[];
  /** Evaluation seeds (0, 1, ...); each prompt's generator seed is derived from it and the prompt. */
  seeds: number[];
  /** Pairs of generator names [a, b] compared image against image by the simulated expert. */
  comparisons?: [string, string][];
  /** The expert's disagreement rate, tie band and seed. Defaults: flipRate 0.1, tieBand 0.02, seed 0. */
  expert?: Omit<ExpertOptions, 'judges'>;
  judges?: Readonly<Record<Dimension, Judge>>;
  clip?: ImageTextEncoder;
  /** Needs `clip`. */
  aesthetic?: AestheticPredictor;
  rewards?: { name: string; model: RewardModel }[];
  /** Prompts per chunk. Defaults to 24. */
  chunkSize?: number;
  /** Where to write a PNG of this image (null: not kept). */
  keepImage?: (item: EvalItem, indexInDimension: number) => string | null;
  /** JSONL of finished chunks; a rerun with the same file skips them. */
  resumeFile?: string;
  /** Opens a generator (defaults to its spec: a model directory or world:quality=Q). */
  open?: (g: GeneratorInfo) => Promise<OpenedGenerator>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SuiteResult {
  items: EvalItem[];
  comparisons: ComparisonItem[];
  /** Chunks computed by this call (the others were read back). */
  computed: number;
  chunks: number;
}

interface ChunkLine {
  chunk: number;
  items: EvalItem[];
  comparisons: ComparisonItem[];
}

/** The generator seed of a prompt at evaluation seed `seed`: the same for every generator. */
export function imageSeed(seed: number, prompt: string): number {
  return deriveSeed(seed, `eval:${prompt}`) & 0x7fffffff;
}

/** What the chunks of a resume file depend on: a file made with other settings is not reused. */
function fingerprint(o: SuiteOptions, chunkSize: number): string {
  const what = {
    generators: o.generators.map((g) => [g.name, g.spec]), seeds: o.seeds, comparisons: o.comparisons ?? [], chunkSize,
    prompts: hashString(o.prompts.map((p) => `${p.dimension}:${p.prompt}`).join('\n')), n: o.prompts.length,
    expert: o.expert ?? {}, clip: o.clip?.name ?? null, aesthetic: !!o.aesthetic, rewards: (o.rewards ?? []).map((r) => r.name),
  };
  return JSON.stringify(what);
}

function readChunks(file: string | undefined, header: string): Map<number, ChunkLine> {
  const out = new Map<number, ChunkLine>();
  if (!file || !existsSync(file)) return out;
  const text = readFileSync(file, 'utf8');
  if (text.length && !text.endsWith('\n')) appendFileSync(file, '\n'); // a line cut short stays alone on its line
  const lines = text.split('\n');
  let head: unknown;
  try {
    head = JSON.parse(lines[0]!).settings;
  } catch {
    head = undefined;
  }
  if (head !== header) {
    throw new Error(`Expected ${file} to hold an evaluation with the same settings (generators, prompts, seeds, metrics) but it was made with others; remove it to start the evaluation again`);
  }
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    try {
      const c = JSON.parse(line) as ChunkLine;
      out.set(c.chunk, c);
    } catch {
      // a line cut short by a kill: that chunk is recomputed
    }
  }
  return out;
}

export async function evaluateSuite(options: SuiteOptions): Promise<SuiteResult> {
  const { generators, prompts, seeds } = options;
  const names = new Set(generators.map((g) => g.name));
  if (names.size !== generators.length) throw new Error('Expected distinct generator names for generators but received a repeat');
  for (const [a, b] of options.comparisons ?? []) {
    if (!names.has(a) || !names.has(b)) throw new Error(`Expected generator names for comparison [${a}, ${b}] but received one not being evaluated`);
  }
  if (options.aesthetic && !options.clip) throw new Error('Expected a clip encoder for the aesthetic predictor (it reads CLIP image embeddings) but received none');
  const chunkSize = options.chunkSize ?? 24;
  const judges = options.judges ?? WORLD_JUDGES;
  const expert = new SimulatedExpert({ ...options.expert, judges });
  const expertSeed = options.expert?.seed ?? 0;
  // Work units: (seed, prompt chunk), seed-major.
  const units: { seed: number; start: number }[] = [];
  for (const seed of seeds) for (let start = 0; start < prompts.length; start += chunkSize) units.push({ seed, start });
  const header = fingerprint(options, chunkSize);
  const done = readChunks(options.resumeFile, header);
  if (options.resumeFile && !existsSync(options.resumeFile)) {
    mkdirSync(dirname(options.resumeFile), { recursive: true });
    writeFileSync(options.resumeFile, JSON.stringify({ settings: header }) + '\n');
  }
  const indexInDim = prompts.map((p, i) => prompts.slice(0, i).filter((q) => q.dimension === p.dimension).length);
  const total = units.length * generators.length;
  let progress = 0;
  options.onProgress?.(0, total);
  const opened = new Map<string, OpenedGenerator>();
  const open = options.open ?? ((g: GeneratorInfo) => openGenerator(parseGeneratorSpec(g.spec)));
  const result: SuiteResult = { items: [], comparisons: [], computed: 0, chunks: units.length };
  try {
    for (const [k, unit] of units.entries()) {
      const prior = done.get(k);
      if (prior) {
        result.items.push(...prior.items);
        result.comparisons.push(...prior.comparisons);
        progress += generators.length;
        options.onProgress?.(progress, total);
        continue;
      }
      if (options.signal?.aborted) throw new Error('Expected the evaluation to run to the end but it was aborted (signal); a rerun resumes it');
      const chunk = prompts.slice(unit.start, unit.start + chunkSize);
      const texts = chunk.map((p) => p.prompt);
      const genSeeds = texts.map((t) => imageSeed(unit.seed, t));
      const images = new Map<string, RgbImage[]>();
      const line: ChunkLine = { chunk: k, items: [], comparisons: [] };
      for (const g of generators) {
        let gen = opened.get(g.name);
        if (!gen) opened.set(g.name, (gen = await open(g)));
        const imgs = await gen.generator.generate(texts, genSeeds, { ...gen.options, signal: options.signal });
        images.set(g.name, imgs);
        const judged = judgeAll(imgs, texts, judges);
        const clip = options.clip ? await clipScores(options.clip, texts, imgs) : undefined;
        const aesthetic = options.clip && options.aesthetic ? await aestheticScores(options.clip, options.aesthetic, imgs) : undefined;
        const rewards = (options.rewards ?? []).map((r) => ({ name: r.name, scores: rewardScores(r.model, texts, imgs) }));
        for (const [i, p] of chunk.entries()) {
          const item: EvalItem = { generator: g.name, prompt: p.prompt, dimension: p.dimension, seed: unit.seed, judges: judged[i]! };
          if (clip) item.clip = clip[i];
          if (aesthetic) item.aesthetic = aesthetic[i];
          if (rewards.length) {
            item.rewards = Object.fromEntries(rewards.map((r) => [r.name, r.scores.reward[i]!]));
            const withLeaves = rewards.filter((r) => r.scores.leaves);
            if (withLeaves.length) item.leaves = Object.fromEntries(withLeaves.map((r) => [r.name, Object.fromEntries(Object.entries(r.scores.leaves!).map(([leaf, v]) => [leaf, v[i]!]))]));
          }
          line.items.push(item);
          const path = options.keepImage?.(item, indexInDim[unit.start + i]!);
          if (path) {
            mkdirSync(dirname(path), { recursive: true });
            await writePng(path, imgs[i]!);
          }
        }
        options.onProgress?.(++progress, total);
      }
      for (const [a, b] of options.comparisons ?? []) {
        const ia = images.get(a)!, ib = images.get(b)!;
        for (const [i, p] of chunk.entries()) {
          const key = deriveSeed(expertSeed, `${a}|${b}|${unit.seed}|${p.dimension ?? ''}|${p.prompt}`);
          const o = expertOutcome(expert, p.dimension, { prompt: p.prompt, image: ia[i]! }, { prompt: p.prompt, image: ib[i]! }, key);
          line.comparisons.push({ a, b, prompt: p.prompt, dimension: p.dimension, seed: unit.seed, expert: o.expert, judge: o.judge });
        }
      }
      if (options.resumeFile) {
        appendFileSync(options.resumeFile, JSON.stringify(line) + '\n');
      }
      result.items.push(...line.items);
      result.comparisons.push(...line.comparisons);
      result.computed++;
    }
  } finally {
    for (const g of opened.values()) g.dispose();
  }
  return result;
}
