// run-refl.ts: a ReFL run (`treereward refl --config file.json`, or runRefl(config) from TypeScript):
//   1. the generator, the reward model, the prompts and the pretraining pairs
//   2. what trains (the UNet, or LoRA adapters on it) and what is frozen (VAE, text encoder, reward)
//   3. AdamW, warm-up then a constant learning rate; the run's random stream and data order, or
//      where the newest checkpoint left them (exact resume)
//   4. each step (refl-step.ts: eq. 9-11), logged to log.jsonl; checkpoints every N steps, at the end
//      and on abort; a sample grid every N steps; a loss or gradient that is not finite stops the run
//      with the last good checkpoint kept
//   5. the tuned generator saved as a model directory (LoRA merged; the adapters also on their own)
// Output layout: <output>/checkpoints/step-NNNNNNNN/, log.jsonl, samples/step-NNNNNNNN.png,
// model/ (model_index.json + safetensors), lora.safetensors, summary.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { requireCuda } from '../api/memory.js';
import { onDevice, Rng } from '../api/create.js';
import type { Device } from '../api/dtype.js';
import { AdamW } from '../api/optim/adamw.js';
import type { Tensor } from '../api/tensor.js';
import { FeedbackStore } from '../data/store/feedback-store.js';
import { loadDiffusionModel, saveDiffusionModel, type DiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { DIVERGED_CODE, throwIfAborted, yieldToEventLoop } from '../diffusion/run-errors.js';
import { createScheduler } from '../diffusion/schedulers/index.js';
import { parseSchedulerConfig } from '../diffusion/schedulers/scheduler-config.js';
import { DataOrder } from '../diffusion/train/image-text-data.js';
import {
  CHECKPOINT_FORMAT, latestTrainingCheckpoint, loadTrainingCheckpoint, pruneTrainingCheckpoints, saveTrainingCheckpoint, type CheckpointState,
} from '../diffusion/train/train-checkpoint.js';
import type { DiffusionModels } from '../diffusion/types.js';
import { UNet } from '../models/unet.js';
import { expected, TreeRewardError } from '../native/errors.js';
import type { RewardModel } from '../reward/reward-model.js';
import { parseReflConfig, type ReflConfig } from './config.js';
import { differentiableScheduler } from './differentiable-scheduler.js';
import { freezeReward, loadReflReward } from './load-reward.js';
import { attachLora, loraParameters, mergeLora, saveLora } from './lora.js';
import { pretrainFromStore, type PretrainSource } from './pretrain-data.js';
import { NonFiniteValue, reflStep, type ReflStepContext, type ReflStepResult } from './refl-step.js';
import { RunLog, type StepRecord } from './run-log.js';
import { writeSampleGrid, type GridSettings } from './sample-grid.js';

export const REFL_TASK = 'refl';

/** The run's JSONL log of every step, in its output folder. */
export const REFL_LOG = 'log.jsonl';

/** What the TypeScript API can hand a run instead of (or besides) paths in the config. */
export interface ReflRuntime {
  /** The generator (else config.model is loaded). Its UNet is tuned in place unless LoRA is trained. */
  model?: DiffusionModel;
  /** The reward model (else config.reward is loaded). Frozen by the run. */
  reward?: RewardModel;
  /** Prompts (else config.prompts). */
  prompts?: string[];
  /** The pretraining pairs (else config.pretrain.store). */
  pretrain?: PretrainSource;
  /** Relative paths in the config resolve against this. Defaults to the working directory. */
  baseDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: ReflProgress) => void;
}

export interface ReflProgress extends StepRecord {
  totalSteps: number;
  checkpoint?: string;
  samples?: string;
}

export interface ReflResult {
  /** Steps done in all (resumed ones included). */
  steps: number;
  /** L of every step from the first. */
  losses: number[];
  /** Mean R of the steps this call ran. */
  rewards: number[];
  resumedFrom: number | null;
  lastCheckpoint: string | null;
  /** The tuned model directory, when saved. */
  modelDir: string | null;
  /** The adapters, when LoRA trained. */
  loraFile: string | null;
  logFile: string;
  sampleGrids: string[];
  trainableParameters: number;
  seconds: number;
}

function readPrompts(c: ReflConfig, runtime: ReflRuntime, baseDir: string): string[] {
  if (runtime.prompts) {
    if (!Array.isArray(runtime.prompts) || runtime.prompts.length === 0 || runtime.prompts.some((p) => typeof p !== 'string')) {
      throw expected('a non-empty array of strings', 'runtime.prompts', runtime.prompts);
    }
    return runtime.prompts;
  }
  if (!c.prompts) throw expected('prompts (a list, or { file })', 'config.prompts', c.prompts);
  if (Array.isArray(c.prompts)) return c.prompts;
  const file = resolve(baseDir, c.prompts.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable prompt file for config.prompts.file but ${(e as Error).message}`);
  }
  const prompts = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (prompts.length === 0) throw expected('a file with at least one prompt', 'config.prompts.file', file);
  return prompts;
}

/** Moves a model's parts (and the reward model) to the run's device; a part that cannot move is an error. */
function moveTo(device: Device, parts: Record<string, { parameters(): Map<string, Tensor>; to?(device: Device): unknown }>): void {
  for (const [name, part] of Object.entries(parts)) {
    if (part.to) part.to(device);
    else if ([...part.parameters().values()].some((p) => p.device !== device)) {
      throw new TreeRewardError('NOT_SUPPORTED', `Expected a ${name} that can move to ${device} (a native model) for config.device "${device}" but it has no to()`);
    }
  }
}

/** Runs (or resumes) ReFL as the config says. */
export async function runRefl(configInput: unknown, runtime: ReflRuntime = {}): Promise<ReflResult> {
  const c = parseReflConfig(configInput);
  if (c.device === 'cuda') requireCuda('config.device "cuda"');
  // Every tensor the run makes (noise, timesteps, pixels, text ids, optimizer state) is made on the device.
  return onDevice(c.device, () => runParsed(c, runtime));
}

async function runParsed(c: ReflConfig, runtime: ReflRuntime): Promise<ReflResult> {
  const t0 = performance.now();
  const baseDir = runtime.baseDir ?? process.cwd();
  const out = resolve(baseDir, c.output);
  const checkpointDir = join(out, 'checkpoints');
  const log = new RunLog(join(out, REFL_LOG));
  const owned: { dispose(): void }[] = [];
  const dispose = () => {
    for (const o of owned.reverse()) o.dispose();
  };

  try {
    if (!c.resume && latestTrainingCheckpoint(checkpointDir)) {
      throw expected('an output directory without checkpoints for a fresh run (or "resume": true to go on from them)', 'config.output', out);
    }
    // 1. the generator, the reward model, the prompts, the pretraining pairs
    if (!runtime.model && !c.model) throw expected('a model directory (or runtime.model)', 'config.model', c.model);
    if (!runtime.reward && !c.reward) throw expected('a reward model (or runtime.reward)', 'config.reward', c.reward);
    const prompts = readPrompts(c, runtime, baseDir);
    // (read on the host, then moved)
    const model = runtime.model ?? onDevice('cpu', () => loadDiffusionModel(resolve(baseDir, c.model as string)));
    if (!runtime.model) owned.push(model);
    const reward = runtime.reward ?? onDevice('cpu', () => loadReflReward(c.reward!, baseDir));
    if (!runtime.reward) owned.push(reward);
    moveTo(c.device, { 'text encoder': model.models.textEncoder, UNet: model.models.unet, VAE: model.models.vae, 'reward model': reward });
    const vae = model.models.vae;
    const size = c.sampling.size ?? model.spec.defaults.size;
    const down = vae.downFactor * (model.models.unet.downFactor ?? 1);
    if (size % down !== 0) throw expected(`a multiple of ${down} (the VAE's and the UNet's downsampling)`, 'config.sampling.size', size);
    let pretrain: PretrainSource | null = runtime.pretrain ?? null;
    if (!pretrain && c.pretrain) {
      const store = FeedbackStore.open(resolve(baseDir, c.pretrain.store), { readonly: true });
      owned.push({ dispose: () => store.close() });
      pretrain = pretrainFromStore(store, { split: c.pretrain.split, size });
    }

    // 2. what trains and what is frozen
    const baseUnet = model.models.unet;
    let unet = baseUnet;
    if (c.train.target === 'lora') {
      if (!(baseUnet instanceof UNet)) throw new TreeRewardError('NOT_SUPPORTED', 'Expected a native UNet for train.target "lora" but the model has another noise predictor');
      const { rank, alpha, targets } = c.train.lora;
      unet = attachLora(baseUnet, { rank, alpha: alpha ?? rank, targets }, c.seed);
      owned.push(unet as UNet);
    }
    const models: DiffusionModels = { ...model.models, unet };
    for (const holder of [models.vae, models.textEncoder]) for (const p of holder.parameters().values()) p.requiresGrad = false;
    freezeReward(reward, c.train.gradientCheckpointing);
    const trainable = new Map<string, Tensor>();
    if (unet instanceof UNet && unet.lora) {
      for (const p of unet.parameters().values()) p.requiresGrad = false;
      for (const [n, p] of loraParameters(unet)) trainable.set(`unet.${n}`, p);
    } else {
      for (const [n, p] of unet.parameters()) trainable.set(`unet.${n}`, p);
    }
    for (const p of trainable.values()) p.requiresGrad = true;
    const trainableCount = [...trainable.values()].reduce((n, p) => n + p.numel, 0);

    // 3. AdamW; the random stream and the data order, or where a checkpoint left them
    const optimizer = new AdamW([...trainable.values()], { lr: c.train.learningRate, weightDecay: c.train.weightDecay, betas: c.train.betas });
    owned.push({ dispose: () => { for (const t of Object.values(optimizer.state().tensors)) t.dispose(); } });
    const lrFactor = (step: number) => (c.train.warmupSteps > 0 && step < c.train.warmupSteps ? (step + 1) / c.train.warmupSteps : 1);
    const rng = new Rng(2 * c.seed);
    const order = new DataOrder(pretrain?.length ?? 1, 2 * c.seed + 1);
    let step = 0;
    const losses: number[] = [];
    let resumedFrom: number | null = null;
    let lastCheckpoint: string | null = null;
    if (c.resume) {
      const latest = latestTrainingCheckpoint(checkpointDir);
      if (latest) {
        const state = loadTrainingCheckpoint(latest, REFL_TASK, trainable, optimizer);
        step = state.step;
        rng.offset = state.rng.offset;
        order.position = state.data;
        losses.push(...state.losses);
        resumedFrom = step;
        lastCheckpoint = latest;
      }
    }
    log.truncateAfter(resumedFrom ?? -1); // a fresh run starts a fresh log
    log.write(resumedFrom === null ? { event: 'start', step, config: c, trainableParameters: trainableCount } : { event: 'resume', step, from: lastCheckpoint });
    const checkpoint = (): string => {
      const state: CheckpointState = {
        format: CHECKPOINT_FORMAT, version: 1, task: REFL_TASK, step, rng: { seed: rng.seed, offset: rng.offset }, data: order.position,
        losses: [...losses], parameters: [...trainable.keys()],
      };
      lastCheckpoint = saveTrainingCheckpoint(checkpointDir, state, trainable, optimizer);
      pruneTrainingCheckpoints(checkpointDir, c.keepCheckpoints);
      return lastCheckpoint;
    };

    const samplerConfig = parseSchedulerConfig({ ...model.spec.scheduler, ...stripUndefined(c.sampling.scheduler) }, 'config.sampling.scheduler');
    const ctx: ReflStepContext = {
      models, reward, prompts, negativePrompt: c.sampling.negativePrompt,
      sampling: {
        scheduler: differentiableScheduler(createScheduler(samplerConfig)), steps: c.sampling.steps, method: c.sampling.method,
        latentShape: [vae.latentChannels, size / vae.downFactor, size / vae.downFactor],
        guidanceScale: c.sampling.guidanceScale, guidanceWithGradient: c.sampling.guidanceWithGradient, checkpointing: c.train.gradientCheckpointing,
      },
      trainScheduler: createScheduler(model.spec.scheduler),
      objective: c.objective, batchSize: c.batchSize, accumulation: c.train.gradientAccumulation,
      pretrain: pretrain && { source: pretrain, order, batchSize: c.pretrain?.batchSize ?? c.batchSize, captionDropRate: c.pretrain?.captionDropRate ?? 0 },
      optimizer, trainable: [...trainable.values()], maxGradNorm: c.train.maxGradNorm, rng, precision: c.train.precision,
    };
    const grid: GridSettings | null = c.samples
      ? {
          prompts: c.samples.prompts, seed: c.samples.seed, steps: c.samples.steps ?? model.spec.defaults.steps,
          guidanceScale: c.samples.guidanceScale ?? model.spec.defaults.guidanceScale, size, scheduler: model.spec.scheduler,
        }
      : null;
    const samplesDir = join(out, 'samples');
    const sampleGrids: string[] = [];
    const rewards: number[] = [];
    if (grid && resumedFrom === null) sampleGrids.push(await writeSampleGrid(samplesDir, 0, models, grid, runtime.signal));

    // 4. the steps
    while (step < c.steps) {
      if (runtime.signal?.aborted) {
        const saved = lastCheckpoint && (lastCheckpoint as string).endsWith(`step-${String(step).padStart(8, '0')}`) ? lastCheckpoint : checkpoint();
        log.write({ event: 'abort', step, checkpoint: saved });
        throwIfAborted(runtime.signal, 'ReFL', `after step ${step} of ${c.steps}`, `resume from ${saved} with "resume": true`);
      }
      const ts = performance.now();
      const lr = c.train.learningRate * lrFactor(step);
      optimizer.setLrFactor(lrFactor(step));
      let r: ReflStepResult;
      try {
        r = await reflStep(ctx);
      } catch (err) {
        if (!(err instanceof NonFiniteValue)) throw err;
        optimizer.zeroGrad();
        log.write({ event: 'diverged', step, what: err.what, value: String(err.value), checkpoint: lastCheckpoint });
        throw new TreeRewardError(DIVERGED_CODE, `Expected a finite ${err.what} at step ${step + 1} but received ${err.value}; the run stopped before updating, with ${lastCheckpoint ? `its last good checkpoint at ${lastCheckpoint}` : 'no checkpoint written yet'} (lower the learning rate or lambda, or check the reward model)`);
      }
      step += 1;
      losses.push(r.loss);
      rewards.push(r.reward);
      const record: StepRecord = {
        step, loss: r.loss, lossPretrain: r.lossPretrain, lossReward: r.lossReward, reward: r.reward, leaves: r.leaves, branches: r.branches,
        stopIndices: r.stopIndices, gradNorm: r.gradNorm, ...(r.gradNormPretrain !== undefined ? { gradNormPretrain: r.gradNormPretrain } : {}),
        lr, seconds: (performance.now() - ts) / 1000,
      };
      log.write(record);
      const due = step === c.steps || (c.checkpointEvery > 0 && step % c.checkpointEvery === 0);
      const saved = due ? checkpoint() : undefined;
      const gridDue = grid && (step === c.steps || (c.samples && step % c.samples.every === 0));
      const samples = gridDue ? await writeSampleGrid(samplesDir, step, models, grid, runtime.signal) : undefined;
      if (samples) sampleGrids.push(samples);
      runtime.onProgress?.({ ...record, totalSteps: c.steps, ...(saved ? { checkpoint: saved } : {}), ...(samples ? { samples } : {}) });
      await yieldToEventLoop();
    }

    // 5. the tuned generator
    let modelDir: string | null = null, loraFile: string | null = null;
    if (unet instanceof UNet && unet.lora) {
      loraFile = join(out, 'lora.safetensors');
      saveLora(loraFile, unet, { steps: String(step), seed: String(c.seed) });
    }
    if (c.saveModel) {
      modelDir = join(out, 'model');
      const merged = unet instanceof UNet && unet.lora ? mergeLora(unet) : null;
      try {
        saveDiffusionModel(modelDir, { ...model, models: { ...model.models, unet: merged ?? unet } });
      } finally {
        merged?.dispose();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    log.write({ event: 'end', step, modelDir, loraFile, seconds });
    const result: ReflResult = {
      steps: step, losses, rewards, resumedFrom, lastCheckpoint, modelDir, loraFile, logFile: log.path, sampleGrids, trainableParameters: trainableCount, seconds,
    };
    writeSummary(join(out, 'summary.json'), result);
    return result;
  } finally {
    dispose();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function writeSummary(path: string, result: ReflResult): void {
  if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}
