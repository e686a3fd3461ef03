// train-loop.ts: the loop every reward model trains with: AdamW over parameter groups, warm-up and
// cosine decay, gradient accumulation and clipping, a NaN guard, and checkpoints that resume
// exactly (weights, optimizer state and the step; pair sources are deterministic by batch index).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { AdamW, clipGradNorm, cosineSchedule, inPrecision, onDevice, tidy, type Device, type Precision, type Tensor } from '../api/index.js';
import { requireCuda } from '../api/memory.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { native } from '../native/addon.js';
import { TreeRewardError } from '../native/errors.js';
import type { PairSource, TrainingPair } from './pair-source.js';

export interface LoopOptions {
  steps: number;
  batchSize: number;
  accumulation?: number;
  warmupSteps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  /**
   * 'bf16-mixed': each micro-batch's forward and backward under autocast('bfloat16') (the products in bf16 with float32 sums,
   * everything else and the weights float32); 'float32' (the default) computes in float32 throughout.
   */
  precision?: Precision;
  /**
   * "cuda": the model moves to the GPU (and stays there) and every tensor the loop makes (the batches'
   * images, token ids) is made there (onDevice). Defaults to "cpu".
   */
  device?: Device;
  /** Write a checkpoint here every `checkpointEvery` steps and at the end; resume from it when present. */
  checkpointDir?: string;
  checkpointEvery?: number;
  signal?: AbortSignal;
  onStep?: (info: { step: number; loss: number; parts: Record<string, number> }) => void;
}

export interface LoopModel {
  /** Named trainable tensors (checkpointed). */
  parameters(): Map<string, Tensor>;
  /** Moves the model to a device (needed for options.device "cuda"). */
  to?(device: Device): unknown;
}

export interface LoopResult {
  /** Steps run by this call (a resumed run counts from where it resumed). */
  steps: number;
  startStep: number;
  losses: number[];
}

const STATE = 'train-state.json';
const WEIGHTS = 'weights.safetensors';
const OPTIMIZER = 'optimizer.safetensors';

/**
 * Runs `steps` optimizer steps of `lossFn` (which returns the loss and named parts, all scalars) on
 * batches from `source`. Parameter groups: [{ params, lr }].
 */
export async function runRewardLoop(
  model: LoopModel,
  groups: { params: Tensor[]; lr: number }[],
  source: PairSource,
  lossFn: (batch: TrainingPair[]) => { loss: Tensor; parts: Record<string, Tensor> },
  options: LoopOptions,
): Promise<LoopResult> {
  const device = options.device ?? 'cpu';
  if (device !== 'cpu') {
    requireCuda(`device "${device}"`);
    if (!model.to) throw new TreeRewardError('NOT_SUPPORTED', `Expected a reward model that can move to ${device} (with to()) for device "${device}" but it has none`);
    model.to(device);
  }
  return onDevice(device, () => loop(model, groups, source, lossFn, options));
}

async function loop(
  model: LoopModel,
  groups: { params: Tensor[]; lr: number }[],
  source: PairSource,
  lossFn: (batch: TrainingPair[]) => { loss: Tensor; parts: Record<string, Tensor> },
  options: LoopOptions,
): Promise<LoopResult> {
  const { steps, batchSize } = options;
  const precision = options.precision ?? 'float32';
  const accumulation = options.accumulation ?? 1;
  const opt = new AdamW(groups.filter((g) => g.params.length > 0), { lr: groups[0].lr, weightDecay: options.weightDecay ?? 0.01 });
  const schedule = cosineSchedule({ warmupSteps: Math.min(steps, options.warmupSteps ?? Math.max(1, Math.floor(steps / 20))), totalSteps: steps });
  const trainable = groups.flatMap((g) => g.params);
  let start = 0;
  if (options.checkpointDir && existsSync(path.join(options.checkpointDir, STATE))) start = loadCheckpoint(options.checkpointDir, model, opt);
  const losses: number[] = [];
  for (let step = start; step < steps; step++) {
    if (options.signal?.aborted) break;
    opt.setLrFactor(schedule(step));
    opt.zeroGrad();
    let total = 0;
    const parts: Record<string, number> = {};
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = await source.batch(step * accumulation + micro, batchSize);
      // the forward and the backward (and any block it recomputes) in the run's precision
      const r = inPrecision(precision, () => tidy(() => {
        const out = lossFn(batch);
        out.loss.div(accumulation).backward();
        return { loss: out.loss.item(), parts: Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, v.item()])) };
      }));
      if (!Number.isFinite(r.loss)) {
        opt.zeroGrad();
        throw new TreeRewardError('INVALID_ARGUMENT', `Expected a finite loss at step ${step} but received ${r.loss}; training stopped before updating, the last checkpoint is kept`);
      }
      total += r.loss / accumulation;
      for (const [k, v] of Object.entries(r.parts)) parts[k] = (parts[k] ?? 0) + v / accumulation;
    }
    clipGradNorm(trainable, options.maxGradNorm ?? 1);
    opt.step();
    losses.push(total);
    options.onStep?.({ step: step + 1, loss: total, parts });
    const every = options.checkpointEvery ?? 0;
    if (options.checkpointDir && ((every > 0 && (step + 1) % every === 0) || step + 1 === steps)) saveCheckpoint(options.checkpointDir, model, opt, step + 1);
  }
  opt.zeroGrad();
  return { steps: losses.length, startStep: start, losses };
}

/** Writes weights, optimizer state and the step; the previous checkpoint is replaced atomically. */
export function saveCheckpoint(dir: string, model: LoopModel, opt: AdamW, step: number): void {
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeSafetensors(path.join(tmp, WEIGHTS), model.parameters());
  const state = opt.state();
  writeSafetensors(path.join(tmp, OPTIMIZER), state.tensors);
  writeFileSync(path.join(tmp, STATE), JSON.stringify({ step, optimizerSteps: state.stepCount }));
  for (const f of [WEIGHTS, OPTIMIZER, STATE]) renameSync(path.join(tmp, f), path.join(dir, f));
  rmSync(tmp, { recursive: true, force: true });
}

/** Restores weights and optimizer state; returns the step to continue from. */
export function loadCheckpoint(dir: string, model: LoopModel, opt: AdamW): number {
  const state = JSON.parse(readFileSync(path.join(dir, STATE), 'utf8')) as { step: number; optimizerSteps: number };
  const { tensors: weights } = readSafetensors(path.join(dir, WEIGHTS));
  const params = model.parameters();
  for (const [name, p] of params) {
    const w = weights.get(name);
    if (!w) throw new TreeRewardError('CORRUPT_FILE', `Expected the checkpoint in ${dir} to hold ${name} but it does not`);
    if (w.shape.join() !== p.shape.join()) throw new TreeRewardError('CORRUPT_FILE', `Expected ${name} of shape [${p.shape}] in the checkpoint in ${dir} but found [${w.shape}]`);
    p.grad = null;
    native().copyInto(p.handle, w.handle); // into the live parameter, converting dtype
  }
  const { tensors } = readSafetensors(path.join(dir, OPTIMIZER));
  opt.loadState({ stepCount: state.optimizerSteps, tensors: Object.fromEntries(tensors) });
  return state.step;
}
