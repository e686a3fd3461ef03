// finetune-generator.ts: the stand-in for the paper's JourneyDB-tuned SD1.5*: the base generator
// trained further with the same loss (eq. 1, caption drop for CFG) on the renderer's best images,
// several renders of mixed quality per training prompt of which the six judges' favourite is kept
// (generator-data.ts: curatedExample). Resumes like the pretraining. Writes to `out`:
//   run.json, checkpoints/finetune/, train-log.jsonl, samples/*.png
//   model_index.json + *.safetensors (and half/)   the tuned model directory
//   finetune.json        base, command, seed, steps, time, the data's judge scores, the change per dimension
//   acceptance.json      the tuned model's acceptance; base-acceptance.json the base's on the same prompts and seeds
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { DIMENSIONS } from '../api/interfaces.js';
import { loadDiffusionModel, MODEL_INDEX_FILE } from '../diffusion/pipeline/model-dir.js';
import { trainDiffusion } from '../diffusion/train/train-diffusion.js';
import type { TrainingProgress } from '../diffusion/train/training-loop.js';
import { TreeRewardError } from '../native/errors.js';
import { codeVersion, sha256File, writeJsonAtomic } from './asset-files.js';
import {
  acceptanceOptions, compareAcceptance, measureAcceptance, type AcceptanceChange, type AcceptanceReport, type AcceptanceSettings,
} from './generator-acceptance.js';
import { curatedExample, generatedDataset } from './generator-data.js';
import {
  contactSheet, logLine, sampleSheet, saveGeneratorModel, summarizeStage, trainInSegments, writeSheet, type StageStep, type StageSummary,
} from './generator-training.js';
import { checkpointStep, checkRunSettings, samplePrompts } from './pretrain-generator.js';
import { machineDescription } from './ship.js';

export interface FinetuneGeneratorOptions {
  /** The base model directory (what `pretrain generator` wrote). */
  base: string;
  out: string;
  steps: number;
  /** Defaults to 16. */
  batch?: number;
  /** Distinct training prompts (each with its best render). Defaults to 2000. */
  prompts?: number;
  /** Renders per prompt the best is chosen from. Defaults to 4. */
  candidates?: number;
  /** Candidates' quality is uniform in [minQuality, 1]. Defaults to 0.4. */
  minQuality?: number;
  /** Defaults to 1e-4. */
  lr?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Train the text encoder too. Defaults to false (the UNet alone, as SD fine-tunes). */
  trainTextEncoder?: boolean;
  /** Defaults to 0.1. */
  captionDropRate?: number;
  /** Defaults to 100. */
  checkpointEvery?: number;
  /** A sample grid every this many steps (and at the end). Defaults to 0: only at the end. */
  sampleEvery?: number;
  half?: boolean;
  /** The acceptance measurement of the tuned model and its base; null to skip. Defaults to 20 per dimension, 24 held-out. */
  acceptance?: AcceptanceSettings | null;
  command?: string;
  signal?: AbortSignal;
  onStep?: (step: StageStep) => void;
  log?: (line: string) => void;
}

export interface FinetuneRunJson {
  format: 'treereward-world-generator-finetune/1';
  base: { dir: string; sha256: Record<string, string> };
  command: string;
  seed: number;
  batch: number;
  prompts: number;
  candidates: number;
  minQuality: number;
  lr: number;
  trainTextEncoder: boolean;
  finetune: StageSummary;
  /** Mean judge score (six judges) of the kept renders and of all candidates, over the first 64 prompts. */
  data: { n: number; kept: number; candidates: number };
  trainingSeconds: number;
  wallSeconds: number;
  machine: string;
  codeVersion: string;
  files: string[];
  acceptance: { base: AcceptanceReport; tuned: AcceptanceReport; change: AcceptanceChange[] } | null;
}

export interface FinetuneGeneratorReport extends FinetuneRunJson {
  out: string;
  resumedFrom: number;
}

/** The SHA-256 of a model directory's index and weights (what the fine-tune started from). */
function modelHashes(dir: string): Record<string, string> {
  const index = JSON.parse(readFileSync(path.join(dir, MODEL_INDEX_FILE), 'utf8')) as Record<string, { weights?: string | null }>;
  const files = [MODEL_INDEX_FILE, ...['textEncoder', 'unet', 'vae'].map((r) => index[r]?.weights).filter((f): f is string => !!f)];
  return Object.fromEntries(files.map((f) => [f, sha256File(path.join(dir, f))]));
}

/** Whether a stored acceptance report was measured with these settings. */
function sameMeasurement(r: AcceptanceReport, a: ReturnType<typeof acceptanceOptions>): boolean {
  return r.perDimension === a.perDimension && r.content.n === a.heldOut && r.seed === a.seed && JSON.stringify(r.generate) === JSON.stringify(a.generate);
}

export async function finetuneGenerator(options: FinetuneGeneratorOptions): Promise<FinetuneGeneratorReport> {
  const t0 = Date.now();
  const base = path.resolve(options.base);
  if (!existsSync(path.join(base, MODEL_INDEX_FILE))) throw new TreeRewardError('IO', `Expected a model directory (${MODEL_INDEX_FILE}) for --base but received ${JSON.stringify(options.base)}`);
  const { out } = options;
  const log = options.log ?? (() => {});
  const settings = {
    format: 'treereward-generator-finetune-run/1', base, baseSha256: modelHashes(base), steps: options.steps, batch: options.batch ?? 16,
    prompts: options.prompts ?? 2000, candidates: options.candidates ?? 4, minQuality: options.minQuality ?? 0.4, lr: options.lr ?? 1e-4,
    seed: options.seed ?? 0, trainTextEncoder: options.trainTextEncoder ?? false, captionDropRate: options.captionDropRate ?? 0.1,
  };
  for (const k of ['steps', 'batch', 'prompts', 'candidates'] as const) {
    if (!Number.isInteger(settings[k]) || settings[k] < 1) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a positive integer for ${k} but received ${settings[k]}`);
  }
  checkRunSettings(out, settings, 'fine-tune');
  const dir = path.join(out, 'checkpoints', 'finetune');
  const resumedFrom = checkpointStep(dir);
  const model = loadDiffusionModel(base);
  try {
    const size = model.spec.defaults.size;
    const { seed } = settings;
    // 1. the renderer's best images: the best of `candidates` renders per prompt, by mean judge score
    const data = generatedDataset(settings.prompts, (i) => curatedExample(seed, i, size, { candidates: settings.candidates, minQuality: settings.minQuality }), settings.prompts);
    const pipeline = model.pipeline();
    const grid = samplePrompts(seed, size);
    let last = performance.now();
    const sheet = async (step: number) => {
      await writeSheet(path.join(out, 'samples', `finetune-step-${String(step).padStart(6, '0')}.png`), await sampleSheet(pipeline, grid.prompts, grid.seeds, size));
      log(`finetune step ${step}: samples written to samples/`);
      last = performance.now();
    };
    const record = (onStep: (p: TrainingProgress) => void) => (p: TrainingProgress) => {
      const now = performance.now();
      const step: StageStep = { ...p, stage: 'finetune', ms: now - last };
      last = now;
      logLine(out, { stage: 'finetune', step: p.step, loss: p.loss, parts: p.parts, lr: p.lr, gradNorm: p.gradNorm, ms: step.ms });
      options.onStep?.(step);
      onStep(p);
    };

    // 2. the same loss as the pretraining (eq. 1, captions dropped for CFG) on them
    await trainInSegments((signal, onStep) => trainDiffusion(model.models, data, {
      scheduler: model.spec.scheduler, steps: settings.steps, batchSize: settings.batch, learningRate: settings.lr,
      warmupSteps: Math.min(100, Math.floor(settings.steps / 10)), captionDropRate: settings.captionDropRate, trainTextEncoder: settings.trainTextEncoder,
      seed, checkpointDir: dir, checkpointEvery: options.checkpointEvery ?? 100, resume: true, signal, onProgress: record(onStep),
    }), options.sampleEvery ?? 0, sheet, options.signal);
    await sheet(settings.steps);
    const files = saveGeneratorModel(out, model, options.half ?? false);
    const sampled = Array.from({ length: Math.min(64, settings.prompts) }, (_, i) => data.example(i));
    const dataScores = {
      n: sampled.length,
      kept: sampled.reduce((s, e) => s + e.score, 0) / sampled.length,
      candidates: sampled.reduce((s, e) => s + e.candidatesMean, 0) / sampled.length,
    };

    // 3. the tuned model's judge scores against its base's, same prompts and seeds
    let acceptance: FinetuneRunJson['acceptance'] = null;
    if (options.acceptance !== null) {
      const a = acceptanceOptions(options.acceptance ?? { perDimension: 20, heldOut: 24 });
      log(`measuring the tuned model on ${a.perDimension} benchmark prompts per dimension`);
      const tuned = await measureAcceptance(pipeline, { ...a, size, keepSamples: 4, signal: options.signal });
      writeJsonAtomic(path.join(out, 'acceptance.json'), tuned.report);
      await writeSheet(path.join(out, 'acceptance.png'), contactSheet(tuned.samples.map((s) => s.generated), tuned.samples.map((s) => s.rendered)));
      const stored = path.join(base, 'acceptance.json');
      let baseReport = existsSync(stored) ? (JSON.parse(readFileSync(stored, 'utf8')) as AcceptanceReport) : null;
      if (!baseReport || !sameMeasurement(baseReport, a)) {
        log('measuring the base model on the same prompts and seeds');
        const baseModel = loadDiffusionModel(base);
        try {
          baseReport = (await measureAcceptance(baseModel.pipeline(), { ...a, size, signal: options.signal })).report;
        } finally {
          baseModel.dispose();
        }
      }
      writeJsonAtomic(path.join(out, 'base-acceptance.json'), baseReport);
      acceptance = { base: baseReport, tuned: tuned.report, change: compareAcceptance(baseReport, tuned.report) };
    }
    const summary = summarizeStage(out, 'finetune', settings.steps);
    const json: FinetuneRunJson = {
      format: 'treereward-world-generator-finetune/1', base: { dir: base, sha256: settings.baseSha256 }, command: options.command ?? '', seed,
      batch: settings.batch, prompts: settings.prompts, candidates: settings.candidates, minQuality: settings.minQuality, lr: settings.lr,
      trainTextEncoder: settings.trainTextEncoder, finetune: summary, data: dataScores, trainingSeconds: summary.seconds,
      wallSeconds: (Date.now() - t0) / 1000, machine: machineDescription(), codeVersion: codeVersion(), files, acceptance,
    };
    writeJsonAtomic(path.join(out, 'finetune.json'), json);
    return { ...json, out, resumedFrom };
  } finally {
    model.dispose();
  }
}

/** The change per dimension as text lines. */
export function formatChange(change: AcceptanceChange[]): string[] {
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  return [
    'judge scores of the fine-tune against its base (same prompts and seeds):',
    ...change.map((c) => `  ${c.dimension.padEnd(17)} ${c.base.toFixed(3)} -> ${c.tuned.toFixed(3)} (${sign(c.change)})`),
    `  mean over the six dimensions: ${sign(change.filter((c) => (DIMENSIONS as readonly string[]).includes(c.dimension)).reduce((s, c) => s + c.change, 0) / DIMENSIONS.length)}`,
  ];
}
