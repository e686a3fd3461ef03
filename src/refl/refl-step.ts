// refl-step.ts: one ReFL update, as the paper's eq. 9-11 read:
//   a. prompts c from the run's prompt pool
//   b. an image sampled with gradient through the stop step (reward-sample.ts)
//   c. R = r(c, image)                       the reward model's score, differentiable in the image
//   d. L_reward = -R                          (eq. 9; or ImageReward's relu(2 - R))
//   e. L_pretrain = || eps - eps_theta(x_t, t, c) ||^2 on real (prompt, image) pairs   (eq. 10, the diffusion loss of eq. 1)
//   f. L = L_pretrain + lambda L_reward      (eq. 11), gradients clipped, one AdamW update
// "alternating" (ImageReward's SDXL script) makes two updates instead: one on L_pretrain, then one
// on lambda L_reward. The two terms are backpropagated one after the other (their gradients add up
// to those of L) so only one graph is alive at a time.
import { inPrecision, noGrad, type Precision } from '../api/autograd.js';
import type { Rng } from '../api/create.js';
import type { AdamW } from '../api/optim/adamw.js';
import { clipGradNorm } from '../api/optim/clip.js';
import { tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { imagesToPixels } from '../diffusion/pipeline/rgb-images.js';
import type { Scheduler } from '../diffusion/schedulers/scheduler.js';
import { diffusionLoss } from '../diffusion/train/diffusion-loss.js';
import type { DataOrder } from '../diffusion/train/image-text-data.js';
import type { DiffusionModels } from '../diffusion/types.js';
import type { RewardModel } from '../reward/reward-model.js';
import type { ReflConfig } from './config.js';
import type { PretrainSource } from './pretrain-data.js';
import { branchMeans, leafMeans, rewardLoss, selectReward } from './reward-objective.js';
import { runPredictor, sampleWithGradient, type RewardSampling } from './reward-sample.js';

/** A loss or gradient norm that is not finite; the loop turns it into the run's stop message. */
export class NonFiniteValue extends Error {
  constructor(readonly what: string, readonly value: number) {
    super(`Expected a finite ${what} but received ${value}`);
  }
}

export interface ReflStepContext {
  /** The models; `unet` is the one being trained (with adapters for LoRA). */
  models: DiffusionModels;
  reward: RewardModel;
  /** The generator's half, less the models (taken from `models`). */
  sampling: Omit<RewardSampling, 'unet' | 'vae'>;
  /** The model's own scheduler: the forward process of L_pretrain. */
  trainScheduler: Scheduler;
  objective: ReflConfig['objective'];
  /** The prompt pool; each image's prompt is drawn from it. */
  prompts: readonly string[];
  negativePrompt: string;
  batchSize: number;
  accumulation: number;
  pretrain: { source: PretrainSource; order: DataOrder; batchSize: number; captionDropRate: number } | null;
  optimizer: AdamW;
  trainable: Tensor[];
  /** 0: no clipping. */
  maxGradNorm: number;
  /** The run's one random stream. */
  rng: Rng;
  /** 'bf16-mixed': each micro-batch (forward and backward, recomputed blocks included) under autocast('bfloat16'). Defaults to 'float32'. */
  precision?: Precision;
}

export interface ReflStepResult {
  /** L = L_pretrain + lambda L_reward (means over the micro-batches). */
  loss: number;
  lossPretrain: number | null;
  lossReward: number;
  /** Mean R over the step's images. */
  reward: number;
  /** Mean normalised leaf scores, for models with leaves. */
  leaves: Record<string, number> | null;
  /** Mean branch weights w_b, for models with branches. */
  branches: Record<string, number> | null;
  /** The stop index of each micro-batch. */
  stopIndices: number[];
  /** The global gradient norm before clipping (the reward update's, for "alternating"). */
  gradNorm: number;
  /** The pretraining update's gradient norm ("alternating" only). */
  gradNormPretrain?: number;
}

function finite(what: string, value: number): number {
  if (!Number.isFinite(value)) throw new NonFiniteValue(what, value);
  return value;
}

/** Adds a record's values into a running mean of n parts. */
function addMean(into: Record<string, number> | null, from: Record<string, number> | null, n: number): Record<string, number> | null {
  if (!from) return into;
  const out = into ?? {};
  for (const [k, v] of Object.entries(from)) out[k] = (out[k] ?? 0) + v / n;
  return out;
}

/** a-d for one micro-batch: backpropagates scale * L_reward and returns what the log reports. */
function rewardMicroBatch(ctx: ReflStepContext, scale: number) {
  const { models, rng, batchSize: B } = ctx;
  // a. c: B prompts from the pool, and their text states (the text encoder is frozen)
  const prompts = Array.from({ length: B }, () => ctx.prompts[rng.int(ctx.prompts.length)]);
  const encode = (p: string[]) => noGrad(() => tidy(() => models.textEncoder.encode(models.tokenizer.tokenize(p))));
  return inPrecision(ctx.precision ?? 'float32', () => tidy(() => {
    const cond = encode(prompts);
    const uncond = ctx.sampling.guidanceScale !== 1 ? encode(prompts.map(() => ctx.negativePrompt)) : null;
    // b. the image, with gradient through the stop step
    const sample = sampleWithGradient({ ...ctx.sampling, unet: models.unet, vae: models.vae }, cond, uncond, rng);
    try {
      // c. R = r(c, image)
      const out = ctx.reward.score(prompts, sample.image);
      const R = selectReward(out, ctx.objective.select);
      // d. L_reward = -R (eq. 9)
      const lossReward = rewardLoss(R, ctx.objective.rewardLoss, ctx.objective.reluMargin);
      const value = finite('reward loss', lossReward.item());
      const stats = noGrad(() => ({ reward: R.mean().item(), leaves: leafMeans(out), branches: branchMeans(out) }));
      lossReward.mul(scale).backward();
      return { value, ...stats, stopIndex: sample.stopIndex };
    } finally {
      sample.release();
    }
  }));
}

/** e for one micro-batch: backpropagates scale * L_pretrain and returns its value. */
async function pretrainMicroBatch(ctx: ReflStepContext, scale: number): Promise<number> {
  const p = ctx.pretrain!;
  const items = await Promise.all(p.order.next(p.batchSize).map((i) => p.source.get(i)));
  const pixels = imagesToPixels(items.map((it) => it.image));
  try {
    const models = { ...ctx.models, unet: runPredictor(ctx.models.unet, ctx.sampling.checkpointing) };
    return inPrecision(ctx.precision ?? 'float32', () => tidy(() => {
      // e. L_pretrain: eq. 1 on real pairs (the VAE encodes without gradient; the text encoder is frozen)
      const loss = diffusionLoss(models, ctx.trainScheduler, { pixels, prompts: items.map((it) => it.prompt) }, ctx.rng, {
        captionDropRate: p.captionDropRate, trainTextEncoder: false,
      });
      const value = finite('pretraining loss', loss.item());
      loss.mul(scale).backward();
      return value;
    }));
  } finally {
    pixels.dispose();
  }
}

/** Clips the accumulated gradients and applies one update; returns the norm before clipping. */
function update(ctx: ReflStepContext): number {
  const norm = finite('gradient norm', clipGradNorm(ctx.trainable, ctx.maxGradNorm > 0 ? ctx.maxGradNorm : Number.MAX_VALUE));
  ctx.optimizer.step();
  ctx.optimizer.zeroGrad();
  return norm;
}

/** One ReFL step (two updates in the alternating form); the learning rate is set by the caller. */
export async function reflStep(ctx: ReflStepContext): Promise<ReflStepResult> {
  const { objective, accumulation: n } = ctx;
  const lambda = objective.lambda;
  let lossPretrain: number | null = ctx.pretrain ? 0 : null;
  let lossReward = 0, reward = 0;
  let leaves: Record<string, number> | null = null, branches: Record<string, number> | null = null;
  const stopIndices: number[] = [];
  let gradNormPretrain: number | undefined;
  ctx.optimizer.zeroGrad();

  if (objective.form === 'alternating' && ctx.pretrain) {
    // an update on L_pretrain alone
    for (let m = 0; m < n; m++) lossPretrain = (lossPretrain as number) + (await pretrainMicroBatch(ctx, 1 / n)) / n;
    gradNormPretrain = update(ctx);
  }
  for (let m = 0; m < n; m++) {
    // a-d: lambda L_reward
    const r = rewardMicroBatch(ctx, lambda / n);
    lossReward += r.value / n;
    reward += r.reward / n;
    leaves = addMean(leaves, r.leaves, n);
    branches = addMean(branches, r.branches, n);
    stopIndices.push(r.stopIndex);
    // e: L_pretrain, in the same update (eq. 11)
    if (objective.form === 'combined' && ctx.pretrain) lossPretrain = (lossPretrain as number) + (await pretrainMicroBatch(ctx, 1 / n)) / n;
  }
  // f. L = L_pretrain + lambda L_reward: one update
  const gradNorm = update(ctx);
  const loss = (lossPretrain ?? 0) + lambda * lossReward;
  return { loss, lossPretrain, lossReward, reward, leaves, branches, stopIndices, gradNorm, ...(gradNormPretrain !== undefined ? { gradNormPretrain } : {}) };
}
