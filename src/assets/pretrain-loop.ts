// pretrain-loop.ts: the loop the world's encoders pretrain with: AdamW, linear warm-up and cosine
// decay, gradient clipping, a NaN guard, and checkpoints (weights, optimizer state, step) written
// atomically by the reward loop's writer. Batches and negatives are pure functions of the step, so a
// run resumed from a checkpoint takes exactly the steps an uninterrupted run would have taken. It
// yields to the event loop between steps, so Ctrl-C (an AbortSignal) stops it cleanly.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { AdamW, clipGradNorm, cosineSchedule, tidy, type Tensor } from '../api/index.js';
import { TreeRewardError } from '../native/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../reward/train-loop.js';

export interface PretrainGroup {
  params: Tensor[];
  /** Defaults to the loop's weightDecay. */
  weightDecay?: number;
}

export interface StepInfo {
  step: number;
  loss: number;
  parts: Record<string, number>;
  /** Wall time of this step, milliseconds. */
  ms: number;
  lr: number;
}

export interface PretrainLoopOptions {
  steps: number;
  lr: number;
  /** Defaults to 5% of the steps (at least 1). */
  warmupSteps?: number;
  /** Defaults to 0.05 (BLIP's). */
  weightDecay?: number;
  /** Defaults to 1. */
  maxGradNorm?: number;
  /** Checkpoints go here; a run finds its last one here and resumes from it. */
  checkpointDir: string;
  /** Defaults to 100. The last step is always checkpointed. */
  checkpointEvery?: number;
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void;
  /** After each checkpoint (evaluations, logs). */
  onCheckpoint?: (step: number) => void;
  /** After each optimizer step (clamping a temperature, say). */
  afterStep?: () => void;
}

export interface PretrainLoopResult {
  /** The step the run started from (0, or the checkpoint's). */
  startStep: number;
  /** The step it ended at (steps, or earlier when stopped). */
  endStep: number;
  losses: number[];
  /** Mean wall time of the steps this call ran. */
  msPerStep: number;
  stopped: boolean;
}

/** Runs optimizer steps [checkpoint step, steps) of `stepLoss(step)`. `params` is everything checkpointed. */
export async function runPretrainLoop(
  params: Map<string, Tensor>,
  groups: PretrainGroup[],
  stepLoss: (step: number) => { loss: Tensor; parts: Record<string, Tensor> },
  options: PretrainLoopOptions,
): Promise<PretrainLoopResult> {
  const { steps } = options;
  const model = { parameters: () => params };
  const decay = options.weightDecay ?? 0.05;
  const opt = new AdamW(groups.filter((g) => g.params.length > 0).map((g) => ({ params: g.params, weightDecay: g.weightDecay ?? decay })), { lr: options.lr });
  const warmup = Math.min(steps, options.warmupSteps ?? Math.max(1, Math.floor(steps / 20)));
  const schedule = cosineSchedule({ warmupSteps: warmup, totalSteps: steps, minFactor: 0.1 });
  const trainable = groups.flatMap((g) => g.params);
  const every = options.checkpointEvery ?? 100;
  const start = existsSync(path.join(options.checkpointDir, 'train-state.json')) ? loadCheckpoint(options.checkpointDir, model, opt) : 0;
  const losses: number[] = [];
  let ms = 0, step = start;
  for (; step < steps; step++) {
    await new Promise((r) => setImmediate(r));
    if (options.signal?.aborted) break;
    const t0 = performance.now();
    opt.setLrFactor(schedule(step));
    opt.zeroGrad();
    const r = tidy(() => {
      const out = stepLoss(step);
      out.loss.backward();
      return { loss: out.loss.item(), parts: Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, v.item()])) };
    });
    if (!Number.isFinite(r.loss)) {
      opt.zeroGrad();
      throw new TreeRewardError('INVALID_ARGUMENT', `Expected a finite loss at step ${step} but received ${r.loss}; training stopped before updating, the last checkpoint is kept`);
    }
    clipGradNorm(trainable, options.maxGradNorm ?? 1);
    opt.step();
    options.afterStep?.();
    const dt = performance.now() - t0;
    ms += dt;
    losses.push(r.loss);
    options.onStep?.({ step: step + 1, loss: r.loss, parts: r.parts, ms: dt, lr: opt.groups[0].options.lr });
    if ((step + 1) % every === 0 || step + 1 === steps) {
      saveCheckpoint(options.checkpointDir, model, opt, step + 1);
      options.onCheckpoint?.(step + 1);
    }
  }
  opt.zeroGrad();
  return { startStep: start, endStep: step, losses, msPerStep: losses.length ? ms / losses.length : 0, stopped: step < steps };
}
