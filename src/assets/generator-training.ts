// generator-training.ts: what the generator's pretraining and fine-tuning share around the diffusion
// library's training loops: stopping a run at sample-grid boundaries and going on from its
// checkpoint (the loop's exact resume, so the steps are those of one uninterrupted run), the
// step log, sample grids (the model's images above the renderer's for the same prompts and seeds),
// and float16 copies of a model directory for assets/.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Generator, RgbImage } from '../api/interfaces.js';
import type { DiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { MODEL_INDEX_FILE, saveDiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { imageGrid, writePng } from '../diffusion/pipeline/rgb-images.js';
import type { TrainingProgress, TrainingResult } from '../diffusion/train/training-loop.js';
import type { ParameterHolder } from '../diffusion/types.js';
import { writeSafetensors } from '../io/safetensors.js';
import { TreeRewardError } from '../native/errors.js';
import { WorldGenerator } from '../world/world-generator.js';

export const TRAIN_LOG = 'train-log.jsonl';

/** One optimizer step of a stage, as the commands report it. */
export interface StageStep extends TrainingProgress {
  stage: string;
  /** Wall time since the previous step (or the stage's start), milliseconds. */
  ms: number;
}

/**
 * Runs `train` (a library training call that resumes from its checkpoint folder) to the end,
 * stopping it after every `every`-th step to call `atBoundary(step)` (a sample grid) and going on
 * from the checkpoint the stop wrote. A user's abort (`signal`) ends it with the loop's error.
 */
export async function trainInSegments(
  train: (signal: AbortSignal, onStep: (p: TrainingProgress) => void) => Promise<TrainingResult>,
  every: number,
  atBoundary: (step: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<TrainingResult> {
  for (;;) {
    const segment = new AbortController();
    let boundary: number | null = null;
    const combined = signal ? AbortSignal.any([signal, segment.signal]) : segment.signal;
    try {
      const r = await train(combined, (p) => {
        if (every > 0 && p.step % every === 0 && p.step < p.totalSteps) {
          boundary = p.step;
          segment.abort();
        }
      });
      return r;
    } catch (err) {
      if (boundary === null || signal?.aborted || !(err instanceof TreeRewardError)) throw err;
      await atBoundary(boundary);
    }
  }
}

/** Appends one line to a run's train-log.jsonl. */
export function logLine(out: string, value: Record<string, unknown>): void {
  appendFileSync(path.join(out, TRAIN_LOG), JSON.stringify(value) + '\n');
}

export interface StageSummary {
  steps: number;
  /** Summed wall time of the logged steps (each counted once, a resumed run's repeats replacing the lost ones). */
  seconds: number;
  msPerStep: number;
  losses: { first: number | null; lastMean: number | null };
}

/** A stage's steps, time and losses from train-log.jsonl (steps 1..endStep; later lines win). */
export function summarizeStage(out: string, stage: string, endStep: number): StageSummary {
  const byStep = new Map<number, { loss: number; ms: number }>();
  let text = '';
  try {
    text = readFileSync(path.join(out, TRAIN_LOG), 'utf8');
  } catch {
    // no log yet
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const j = JSON.parse(line) as { stage?: string; step: number; loss?: number; ms?: number };
    if (j.stage === stage && j.loss !== undefined && j.step <= endStep) byStep.set(j.step, { loss: j.loss, ms: j.ms ?? 0 });
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const tail = steps.slice(-Math.min(50, steps.length)).map((s) => byStep.get(s)!.loss);
  const ms = steps.reduce((a, s) => a + byStep.get(s)!.ms, 0);
  return {
    steps: endStep,
    seconds: ms / 1000,
    msPerStep: steps.length ? ms / steps.length : 0,
    losses: { first: steps.length ? byStep.get(steps[0])!.loss : null, lastMean: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null },
  };
}

/** Rows of 8: the generator's images, then the renderer's of the same prompts and seeds, and so on. */
export async function sampleSheet(generator: Generator, prompts: string[], seeds: number[], size: number, options: Record<string, unknown> = {}): Promise<RgbImage> {
  const generated = await generator.generate(prompts, seeds, { size, ...options });
  const rendered = await new WorldGenerator({ size }).generate(prompts, seeds, { size });
  return contactSheet(generated, rendered);
}

/** Pairs of rows of up to 8: `top[i]` above `bottom[i]`. */
export function contactSheet(top: RgbImage[], bottom: RgbImage[], columns = 8): RgbImage {
  const cells: RgbImage[] = [];
  const blank = { width: top[0].width, height: top[0].height, data: new Uint8Array(top[0].width * top[0].height * 3) };
  for (let at = 0; at < top.length; at += columns) {
    for (const row of [top, bottom]) for (let c = 0; c < columns; c++) cells.push(row[at + c] ?? blank);
  }
  return imageGrid(cells, columns);
}

export async function writeSheet(file: string, image: RgbImage): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await writePng(file, image);
}

export function parameterCount(holder: ParameterHolder): number {
  return [...holder.parameters().values()].reduce((s, p) => s + p.numel, 0);
}

/**
 * Saves a model directory; with `half`, also a copy with float16 weights in `<dir>/half` (what
 * assets/ ships; loading casts them back to float32).
 */
export function saveGeneratorModel(dir: string, model: DiffusionModel, half: boolean): string[] {
  saveDiffusionModel(dir, model);
  const written = [MODEL_INDEX_FILE];
  const index = JSON.parse(readFileSync(path.join(dir, MODEL_INDEX_FILE), 'utf8')) as Record<string, { kind: string; weights?: string | null }>;
  for (const role of ['textEncoder', 'unet', 'vae'] as const) if (index[role].weights) written.push(index[role].weights!);
  if (!half) return written;
  const halfDir = path.join(dir, 'half');
  mkdirSync(halfDir, { recursive: true });
  for (const role of ['textEncoder', 'unet', 'vae'] as const) {
    const file = index[role].weights;
    if (!file) continue;
    writeSafetensors(path.join(halfDir, file), (model.models[role] as ParameterHolder).parameters(), { role, kind: index[role].kind }, { dtype: 'F16' });
  }
  writeFileSync(path.join(halfDir, MODEL_INDEX_FILE), readFileSync(path.join(dir, MODEL_INDEX_FILE)));
  return written;
}
