// training-loop.ts: the loop the diffusion and VAE trainers share: AdamW with a warm-up + cosine (or
// constant) learning rate, gradient accumulation over micro-batches, clipping by global norm,
// progress, checkpoints every N steps, exact resume, and a clean stop on a loss that is not finite
// (keeping the last good checkpoint) or on an abort signal (after writing one).
import { Rng } from '../../api/create.js';
import { AdamW } from '../../api/optim/adamw.js';
import { clipGradNorm } from '../../api/optim/clip.js';
import { constantSchedule, cosineSchedule, type LrSchedule } from '../../api/optim/schedule.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { checkFinite, checkInt } from '../../api/validate.js';
import { expected, TreeRewardError } from '../../native/errors.js';
import { DIVERGED_CODE, throwIfAborted, yieldToEventLoop } from '../run-errors.js';
import type { ParameterHolder } from '../types.js';
import { DataOrder, type ImageTextBatch, type ImageTextDataset } from './image-text-data.js';
import {
  CHECKPOINT_FORMAT, latestTrainingCheckpoint, loadTrainingCheckpoint, pruneTrainingCheckpoints, saveTrainingCheckpoint,
  trainableParameters, type CheckpointState,
} from './train-checkpoint.js';

export interface TrainingOptions {
  /** Optimizer steps of the whole run (the learning-rate schedule's length). */
  steps: number;
  /** Images per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients add up before each optimizer step. Defaults to 1. */
  gradientAccumulation?: number;
  /** Defaults to 1e-4. */
  learningRate?: number;
  /** AdamW's decoupled weight decay. Defaults to 0.01. */
  weightDecay?: number;
  /** Defaults to [0.9, 0.999]. */
  betas?: [number, number];
  /** Linear warm-up steps. Defaults to 0. */
  warmupSteps?: number;
  /** "cosine" decays to minLrFactor after the warm-up; "constant" stays. Defaults to "cosine". */
  lrSchedule?: 'cosine' | 'constant';
  /** Defaults to 0. */
  minLrFactor?: number;
  /** Clip the global gradient norm to this; 0 for no clipping. Defaults to 1. */
  maxGradNorm?: number;
  /** Seeds the noise stream (Rng(2 seed)) and the data order (Rng(2 seed + 1)). Defaults to 0. */
  seed?: number;
  /** Where checkpoints go; none are written without it. */
  checkpointDir?: string;
  /** Write a checkpoint every this many steps (and at the end, and on abort). 0: only at the end and on abort. Defaults to 0. */
  checkpointEvery?: number;
  /** Checkpoints kept (the newest). Defaults to 2. */
  keepCheckpoints?: number;
  /** Go on from the newest checkpoint in checkpointDir if there is one. Defaults to false. */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TrainingProgress) => void;
}

export interface TrainingProgress {
  step: number;
  totalSteps: number;
  /** The step's loss (mean over its micro-batches). */
  loss: number;
  /** Named parts of the loss (mean over micro-batches). */
  parts: Record<string, number>;
  lr: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** The checkpoint written after this step, if one was. */
  checkpoint?: string;
}

export interface TrainingResult {
  /** Steps done in all (this call and any it resumed). */
  steps: number;
  /** The loss of every step from the first, resumed ones included. */
  losses: number[];
  /** The step this call resumed from, or null. */
  resumedFrom: number | null;
  lastCheckpoint: string | null;
  seconds: number;
}

/** What a trainer supplies: the trainable parts and the loss of one micro-batch. */
export interface TrainingTask {
  /** "diffusion", "vae": recorded in checkpoints, checked on resume. */
  name: string;
  /** Trainable parts by name; their parameters are saved as "<part>.<name>". */
  trainable: Record<string, ParameterHolder>;
  /** Learning rates per part that differ from options.learningRate. */
  learningRates?: Record<string, number>;
  /** The scalar loss of one micro-batch (with its graph) and named parts to report. */
  loss(batch: ImageTextBatch, rng: Rng): { loss: Tensor; parts?: Record<string, Tensor> };
}

function checkOptions(o: TrainingOptions): Required<Omit<TrainingOptions, 'checkpointDir' | 'signal' | 'onProgress'>> {
  const steps = checkInt(o.steps, 'options.steps', 1);
  const warmupSteps = checkInt(o.warmupSteps ?? 0, 'options.warmupSteps', 0);
  if (warmupSteps > steps) throw expected(`warmupSteps <= steps (${steps})`, 'options.warmupSteps', warmupSteps);
  const lrSchedule = o.lrSchedule ?? 'cosine';
  if (lrSchedule !== 'cosine' && lrSchedule !== 'constant') throw expected('"cosine" or "constant"', 'options.lrSchedule', lrSchedule);
  const maxGradNorm = checkFinite(o.maxGradNorm ?? 1, 'options.maxGradNorm');
  if (maxGradNorm < 0) throw expected('a number >= 0', 'options.maxGradNorm', maxGradNorm);
  return {
    steps, warmupSteps, lrSchedule, maxGradNorm,
    batchSize: checkInt(o.batchSize, 'options.batchSize', 1),
    gradientAccumulation: checkInt(o.gradientAccumulation ?? 1, 'options.gradientAccumulation', 1),
    learningRate: checkFinite(o.learningRate ?? 1e-4, 'options.learningRate'),
    weightDecay: checkFinite(o.weightDecay ?? 0.01, 'options.weightDecay'),
    betas: o.betas ?? [0.9, 0.999],
    minLrFactor: checkFinite(o.minLrFactor ?? 0, 'options.minLrFactor'),
    seed: checkInt(o.seed ?? 0, 'options.seed', 0),
    checkpointEvery: checkInt(o.checkpointEvery ?? 0, 'options.checkpointEvery', 0),
    keepCheckpoints: checkInt(o.keepCheckpoints ?? 2, 'options.keepCheckpoints', 1),
    resume: o.resume ?? false,
  };
}

/** Runs (or resumes) a training task over a dataset. */
export async function runTraining(task: TrainingTask, dataset: ImageTextDataset, options: TrainingOptions): Promise<TrainingResult> {
  const o = checkOptions(options);
  const t0 = performance.now();
  if (o.resume && !options.checkpointDir) throw expected('a checkpointDir to resume from', 'options.checkpointDir', options.checkpointDir);

  // 1. the trainable parameters, AdamW over them (a group per part), the learning-rate schedule
  const params = trainableParameters(task.trainable);
  if (params.size === 0) throw expected('trainable parts with parameters', 'task.trainable', Object.keys(task.trainable));
  for (const p of params.values()) p.requiresGrad = true;
  const groups = Object.entries(task.trainable).map(([part, holder]) => ({ params: [...holder.parameters().values()], lr: task.learningRates?.[part] ?? o.learningRate }));
  const optimizer = new AdamW(groups.filter((g) => g.params.length > 0), { lr: o.learningRate, weightDecay: o.weightDecay, betas: o.betas });
  const schedule: LrSchedule = o.lrSchedule === 'cosine'
    ? cosineSchedule({ warmupSteps: o.warmupSteps, totalSteps: o.steps, minFactor: o.minLrFactor })
    : (step) => (o.warmupSteps > 0 && step < o.warmupSteps ? (step + 1) / o.warmupSteps : constantSchedule()(step));

  // 2. the run's random streams and data order, or where a checkpoint left them
  const rng = new Rng(2 * o.seed);
  const data = new DataOrder(dataset.length, 2 * o.seed + 1);
  let step = 0;
  const losses: number[] = [];
  let resumedFrom: number | null = null;
  let lastCheckpoint: string | null = null;
  const dir = options.checkpointDir;
  if (o.resume && dir) {
    const latest = latestTrainingCheckpoint(dir);
    if (latest) {
      const state = loadTrainingCheckpoint(latest, task.name, params, optimizer);
      step = state.step;
      rng.offset = state.rng.offset;
      data.position = state.data;
      losses.push(...state.losses);
      resumedFrom = step;
      lastCheckpoint = latest;
    }
  }
  const checkpoint = (): string | null => {
    if (!dir) return null;
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT, version: 1, task: task.name, step, rng: { seed: rng.seed, offset: rng.offset }, data: data.position,
      losses: [...losses], parameters: [...params.keys()],
    };
    lastCheckpoint = saveTrainingCheckpoint(dir, state, params, optimizer);
    pruneTrainingCheckpoints(dir, o.keepCheckpoints);
    return lastCheckpoint;
  };
  const diverged = (what: string, value: number): TreeRewardError =>
    new TreeRewardError(DIVERGED_CODE, `Expected a finite ${what} at step ${step + 1} but received ${value}; the run stopped with ${lastCheckpoint ? `its last good checkpoint at ${lastCheckpoint}` : 'no checkpoint written'} (lower the learning rate or check the data)`);

  // 3. each step: gradients of the mean loss over the micro-batches, clipped; one AdamW update
  const paramList = [...params.values()];
  try {
    while (step < o.steps) {
      if (options.signal?.aborted) {
        const saved = lastCheckpoint?.endsWith(`step-${String(step).padStart(8, '0')}`) ? lastCheckpoint : checkpoint();
        throwIfAborted(options.signal, 'training', `after step ${step} of ${o.steps}`, saved ? `resume from ${saved}` : undefined);
      }
      optimizer.zeroGrad();
      let loss = 0;
      const parts: Record<string, number> = {};
      for (let micro = 0; micro < o.gradientAccumulation; micro++) {
        const batch = dataset.batch(data.next(o.batchSize));
        try {
          const got = tidy(() => {
            const out = task.loss(batch, rng);
            const value = out.loss.item();
            if (!Number.isFinite(value)) throw diverged('loss', value);
            out.loss.div(o.gradientAccumulation).backward();
            return { value, parts: Object.fromEntries(Object.entries(out.parts ?? {}).map(([k, t]) => [k, t.item()])) };
          });
          loss += got.value / o.gradientAccumulation;
          for (const [k, v] of Object.entries(got.parts)) parts[k] = (parts[k] ?? 0) + v / o.gradientAccumulation;
        } finally {
          batch.pixels.dispose();
        }
      }
      const gradNorm = clipGradNorm(paramList, o.maxGradNorm > 0 ? o.maxGradNorm : Number.MAX_VALUE);
      if (!Number.isFinite(gradNorm)) throw diverged('gradient norm', gradNorm);
      const lrFactor = schedule(step);
      optimizer.setLrFactor(lrFactor);
      optimizer.step();
      optimizer.zeroGrad();
      step += 1;
      losses.push(loss);
      const due = step === o.steps || (o.checkpointEvery > 0 && step % o.checkpointEvery === 0);
      const saved = due ? checkpoint() : null;
      options.onProgress?.({ step, totalSteps: o.steps, loss, parts, lr: o.learningRate * lrFactor, gradNorm, ...(saved ? { checkpoint: saved } : {}) });
      await yieldToEventLoop();
    }
  } finally {
    optimizer.zeroGrad();
    // AdamW has no dispose(): its state() hands out the moment tensors themselves (and new step counts)
    for (const t of Object.values(optimizer.state().tensors)) t.dispose();
  }
  return { steps: step, losses, resumedFrom, lastCheckpoint, seconds: (performance.now() - t0) / 1000 };
}
