// experiment.ts: the paper's comparison of rewards for feedback learning (its Table 2 / Figure 5 on
// the synthetic world): tune one base generator with each reward under the same budget and seeds,
// then score the tuned generators per dimension with the judges on each dimension's benchmark
// prompts, and report the mean and spread over seeds next to the untuned base.
//   for each reward r, each seed s:  G_{r,s} = ReFL(G_base, r, seed s)        (same config otherwise)
//   score_d(G) = mean over dimension d's prompts p and images x ~ G(p) of judge_d(x, p)
//   report score_d(G_{r,.}): mean and sample std over seeds, and its change from score_d(G_base)
// ReFL code never imports the judges: the caller hands them in (the `Judge` interface only). Every
// run and every evaluation is cached under the output directory, so a stopped experiment resumes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

import type { Judge, RgbImage } from '../api/interfaces.js';
import { parseWith } from '../diffusion/config-check.js';
import { loadDiffusionModel, MODEL_INDEX_FILE } from '../diffusion/pipeline/model-dir.js';
import { expected } from '../native/errors.js';
import type { RewardModel } from '../reward/reward-model.js';
import { parseReflConfig, reflConfigSchema } from './config.js';
import { loadReflReward } from './load-reward.js';
import { runRefl, type ReflProgress, type ReflResult } from './run-refl.js';
import { RunLog, type StepRecord } from './run-log.js';

const evaluationSchema = z.strictObject({
  /** Per dimension, the prompts its judge scores the generator on (the benchmark). */
  prompts: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
  /** Images per prompt (seeds seed, seed + 1, ...). Defaults to 1. */
  imagesPerPrompt: z.int().min(1).default(1),
  /** Defaults to 0. */
  seed: z.int().min(0).default(0),
  /** Defaults to the model's. */
  steps: z.int().min(1).optional(),
  /** Defaults to the model's. */
  guidanceScale: z.number().optional(),
});

export const experimentConfigSchema = z.strictObject({
  /** The base generator (a model directory) every reward tunes. */
  base: z.string().min(1),
  /** Rewards by the name the report uses ("tree", "single-small", ...): directories or ImageReward specs (or runtime.rewards). */
  rewards: z.record(z.string().min(1), z.union([reflConfigSchema.shape.reward.unwrap(), z.null()])),
  /** Defaults to [0, 1, 2]. */
  seeds: z.array(z.int().min(0)).min(1).default([0, 1, 2]),
  /** The ReFL budget every run shares (a ReFL config without model, reward, output and seed). */
  refl: z.record(z.string(), z.unknown()),
  output: z.string().min(1),
  evaluation: evaluationSchema,
  /** Score the untuned base too. Defaults to true. */
  includeBase: z.boolean().default(true),
});

export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;
export type ExperimentConfig = z.output<typeof experimentConfigSchema>;

export interface ExperimentRuntime {
  /** One judge per evaluated dimension. */
  judges: readonly Judge[];
  /** Reward models by name (used instead of loading the config's spec for that name). */
  rewards?: Record<string, RewardModel>;
  baseDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: ExperimentProgress) => void;
}

export type ExperimentProgress =
  | { phase: 'train'; reward: string; seed: number; step: ReflProgress }
  | { phase: 'evaluate'; reward: string; seed: number | null; dimension: string; done: number; total: number };

/** Per dimension: the judge's mean over that dimension's prompts. */
export type DimensionScores = Record<string, number>;

export interface RewardSummary {
  /** Per dimension: mean over seeds, sample std, change from the base, and the per-seed scores. */
  dimensions: Record<string, { mean: number; std: number; delta: number | null; perSeed: number[] }>;
  /** Mean over dimensions of the per-seed means, with its std over seeds. */
  average: { mean: number; std: number; delta: number | null };
  /** Dimensions where every seed beat the base. */
  improvedEverywhere: boolean;
}

export interface ExperimentResult {
  base: DimensionScores | null;
  rewards: Record<string, RewardSummary>;
  runs: { reward: string; seed: number; modelDir: string; scores: DimensionScores; finalReward: number | null }[];
  /** Reward names by average score, best first. */
  ranking: string[];
  reportFile: string;
  resultsFile: string;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (0 for one value). */
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Scores a model directory: per dimension, the judge's mean over its prompts and images. Cached in `cache`. */
async function evaluate(modelDir: string, e: ExperimentConfig['evaluation'], judges: Map<string, Judge>, cache: string, report: (dimension: string, done: number, total: number) => void, signal?: AbortSignal): Promise<DimensionScores> {
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as DimensionScores;
  const model = loadDiffusionModel(modelDir);
  const scores: DimensionScores = {};
  try {
    const pipe = model.pipeline();
    for (const [dimension, prompts] of Object.entries(e.prompts)) {
      const judge = judges.get(dimension)!;
      const jobs = prompts.flatMap((p) => Array.from({ length: e.imagesPerPrompt }, (_, k) => ({ prompt: p, seed: e.seed + k })));
      const images: RgbImage[] = await pipe.generate(jobs.map((j) => j.prompt), jobs.map((j) => j.seed), {
        steps: e.steps, guidanceScale: e.guidanceScale, signal, onProgress: (p) => report(dimension, p.done, p.total),
      });
      scores[dimension] = mean(images.map((img, i) => judge.score(img, jobs[i].prompt)));
    }
  } finally {
    model.dispose();
  }
  writeFileSync(cache, `${JSON.stringify(scores, null, 2)}\n`);
  return scores;
}

function summarise(runs: { scores: DimensionScores }[], base: DimensionScores | null, dimensions: string[]): RewardSummary {
  const out: RewardSummary['dimensions'] = {};
  for (const d of dimensions) {
    const perSeed = runs.map((r) => r.scores[d]);
    const m = mean(perSeed);
    out[d] = { mean: m, std: std(perSeed), delta: base ? m - base[d] : null, perSeed };
  }
  const averages = runs.map((r) => mean(dimensions.map((d) => r.scores[d])));
  const baseAverage = base ? mean(dimensions.map((d) => base[d])) : null;
  return {
    dimensions: out,
    average: { mean: mean(averages), std: std(averages), delta: baseAverage === null ? null : mean(averages) - baseAverage },
    improvedEverywhere: base !== null && dimensions.every((d) => runs.every((r) => r.scores[d] > base[d])),
  };
}

function markdown(result: Omit<ExperimentResult, 'reportFile' | 'resultsFile'>, dimensions: string[], seeds: number[]): string {
  const f = (x: number) => x.toFixed(4);
  const lines = [
    `# Rewards for feedback learning: judge scores per dimension (mean ± std over seeds ${seeds.join(', ')}; change from the base)`,
    '',
    `| generator | ${dimensions.join(' | ')} | average |`,
    `|---|${dimensions.map(() => '---').join('|')}|---|`,
  ];
  if (result.base) lines.push(`| base | ${dimensions.map((d) => f(result.base![d])).join(' | ')} | ${f(mean(dimensions.map((d) => result.base![d])))} |`);
  for (const name of result.ranking) {
    const s = result.rewards[name];
    const cell = (c: { mean: number; std: number; delta: number | null }) => `${f(c.mean)} ± ${f(c.std)}${c.delta === null ? '' : ` (${c.delta >= 0 ? '+' : ''}${f(c.delta)})`}`;
    lines.push(`| ${name} | ${dimensions.map((d) => cell(s.dimensions[d])).join(' | ')} | ${cell(s.average)} |`);
  }
  lines.push('', `Ranking by average: ${result.ranking.join(' > ')}.`);
  const everywhere = result.ranking.filter((n) => result.rewards[n].improvedEverywhere);
  if (result.base) lines.push(`Above the base in every dimension on every seed: ${everywhere.length ? everywhere.join(', ') : 'none'}.`);
  return `${lines.join('\n')}\n`;
}

/** The summary of a run that finished all its steps and saved its model, or null. */
function finishedRun(dir: string, steps: number): ReflResult | null {
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) return null;
  const summary = JSON.parse(readFileSync(file, 'utf8')) as ReflResult;
  return summary.steps === steps && summary.modelDir && existsSync(join(summary.modelDir, MODEL_INDEX_FILE)) ? summary : null;
}

/** Runs (or resumes) the experiment and writes results.json and report.md under config.output. */
export async function runExperiment(configInput: unknown, runtime: ExperimentRuntime): Promise<ExperimentResult> {
  const c = parseWith(experimentConfigSchema, configInput, 'experiment');
  const baseDir = runtime.baseDir ?? process.cwd();
  const out = resolve(baseDir, c.output);
  const baseModel = resolve(baseDir, c.base);
  if (!existsSync(join(baseModel, MODEL_INDEX_FILE))) throw expected(`a model directory with ${MODEL_INDEX_FILE}`, 'experiment.base', c.base);
  const dimensions = Object.keys(c.evaluation.prompts);
  const judges = new Map(runtime.judges.map((j) => [j.dimension as string, j]));
  for (const d of dimensions) if (!judges.has(d)) throw expected(`a judge for dimension "${d}" (one per evaluated dimension)`, 'runtime.judges', runtime.judges.map((j) => j.dimension));
  for (const bad of ['model', 'reward', 'output', 'seed']) if (bad in c.refl) throw expected(`no "${bad}" in the shared ReFL budget (the experiment sets it per run)`, `experiment.refl.${bad}`, c.refl[bad]);
  const budget = parseReflConfig({ ...c.refl, model: baseModel, output: out }, 'experiment.refl'); // fail before any run
  mkdirSync(out, { recursive: true });
  const progress = (reward: string, seed: number | null) => (dimension: string, done: number, total: number) =>
    runtime.onProgress?.({ phase: 'evaluate', reward, seed, dimension, done, total });

  // the base, untuned
  const base = c.includeBase ? await evaluate(baseModel, c.evaluation, judges, join(out, 'base-eval.json'), progress('base', null), runtime.signal) : null;

  // each reward, each seed: the same ReFL budget, then the judges
  const runs: ExperimentResult['runs'] = [];
  for (const [name, spec] of Object.entries(c.rewards)) {
    const given = runtime.rewards?.[name];
    if (!given && spec === null) throw expected(`a reward spec or runtime.rewards["${name}"]`, `experiment.rewards.${name}`, spec);
    const reward = given ?? loadReflReward(spec!, baseDir);
    try {
      for (const seed of c.seeds) {
        const dir = join(out, name, `seed-${seed}`);
        const done = finishedRun(dir, budget.steps);
        const result = done ?? await runRefl({ ...c.refl, model: baseModel, output: dir, seed, resume: true, saveModel: true }, {
          reward, baseDir, signal: runtime.signal, onProgress: (step) => runtime.onProgress?.({ phase: 'train', reward: name, seed, step }),
        });
        const modelDir = result.modelDir ?? join(dir, 'model');
        const scores = await evaluate(modelDir, c.evaluation, judges, join(dir, 'eval.json'), progress(name, seed), runtime.signal);
        const steps = RunLog.read(result.logFile).filter((r): r is StepRecord => !('event' in r));
        runs.push({ reward: name, seed, modelDir, scores, finalReward: steps.length ? steps[steps.length - 1].reward : null });
      }
    } finally {
      if (!given) reward.dispose();
    }
  }

  // the report
  const rewards: Record<string, RewardSummary> = {};
  for (const name of Object.keys(c.rewards)) rewards[name] = summarise(runs.filter((r) => r.reward === name), base, dimensions);
  const ranking = Object.keys(rewards).sort((a, b) => rewards[b].average.mean - rewards[a].average.mean);
  const partial = { base, rewards, runs, ranking };
  const resultsFile = join(out, 'results.json'), reportFile = join(out, 'report.md');
  writeFileSync(resultsFile, `${JSON.stringify({ config: c, ...partial }, null, 2)}\n`);
  writeFileSync(reportFile, markdown(partial, dimensions, c.seeds));
  return { ...partial, resultsFile, reportFile };
}
