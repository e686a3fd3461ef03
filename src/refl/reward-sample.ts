// reward-sample.ts: the generator's half of a ReFL step, top to bottom as in the paper's section 5.2
// (ImageReward's refl.py), and DRaFT-K as the same walk with more steps under gradient:
//   1. x_T ~ N(0, I)
//   2. the stop index j: ReFL draws it from stopRange; DRaFT-K takes j = N - K
//   3. x_{t_j}: the scheduler runs steps 0 .. j-1 without gradient (classifier-free guidance optional)
//   4. steps j .. N-1 with gradient (ReFL: step j alone); at the last of them x0 = the model's x0 estimate
//   5. image = D(x0 / scaling_factor) with gradient (the VAE frozen), mapped to [0, 1]
// The reward model then scores the image (reward-step.ts). Everything random comes from one Rng.
import { checkpoint, noGrad } from '../api/autograd.js';
import { full, type Rng } from '../api/create.js';
import { keep, tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { KlCodec } from '../diffusion/pipeline/components.js';
import { guidedOutput } from '../diffusion/sampling/guidance.js';
import type { Scheduler } from '../diffusion/schedulers/scheduler.js';
import type { LatentCodec, NoisePredictor } from '../diffusion/types.js';
import { UNet } from '../models/unet.js';
import { TreeRewardError } from '../native/errors.js';
import type { ReflMethod } from './config.js';

export interface RewardSampling {
  unet: NoisePredictor;
  vae: LatentCodec;
  /** Set to the run's steps here, per sample (multistep solvers forget their state). Pass it through
   * differentiableScheduler() for DRaFT-K (K > 1) or x0-predicting models. */
  scheduler: Scheduler;
  steps: number;
  method: ReflMethod;
  /** Latent [channels, height, width] of one image. */
  latentShape: readonly [number, number, number];
  guidanceScale: number;
  guidanceWithGradient: boolean;
  /** Recompute UNet and VAE blocks in backward; DRaFT with K > 1 also recomputes whole denoising steps. */
  checkpointing: boolean;
}

export interface RewardSample {
  /** (B, 3, H, W) in [0, 1], with its graph back to the trainable weights. */
  image: Tensor;
  /** Index (in the run's timesteps) of the first step taken with gradient. */
  stopIndex: number;
  /** Its timestep. */
  timestep: number;
  /** Frees what backward needs beyond the graph (DRaFT's checkpointed step inputs): call after backward. */
  release(): void;
}

/** The index of the first step with gradient: ReFL draws it uniformly from stopRange, DRaFT-K is N - K. */
export function drawStopIndex(method: ReflMethod, steps: number, rng: Rng): number {
  if (method.kind === 'draft') return steps - method.k;
  const [lo, hi] = method.stopRange;
  return lo + rng.int(hi - lo + 1);
}

/** eps_theta(x, t, c) as this run calls it: the native UNet with its block checkpointing when asked. */
export function noisePrediction(unet: NoisePredictor, checkpointing: boolean): (x: Tensor, t: Tensor, ctx: Tensor) => Tensor {
  if (checkpointing && unet instanceof UNet) return (x, t, ctx) => unet.forward(x, t, ctx, { checkpointing: true });
  return (x, t, ctx) => unet.forward(x, t, ctx);
}

/** The predictor with this run's checkpointing, as the diffusion library's NoisePredictor. */
export function runPredictor(unet: NoisePredictor, checkpointing: boolean): NoisePredictor {
  const forward = noisePrediction(unet, checkpointing);
  return { downFactor: unet.downFactor, parameters: () => unet.parameters(), forward };
}

/** Unscaled latents -> pixels in about [-1, 1], with gradient, through the frozen VAE. */
function decode(vae: LatentCodec, latents: Tensor, checkpointing: boolean): Tensor {
  if (checkpointing && vae instanceof KlCodec) return vae.model.decode(latents, { checkpointing: true });
  return vae.decode(latents);
}

/**
 * Steps 1-5 for text states cond (B, M, D) (and uncond for guidance): the decoded image in [0, 1]
 * with a graph through the steps taken with gradient. options.noise: x_T (B, C, h, w) instead of a draw.
 */
export function sampleWithGradient(s: RewardSampling, cond: Tensor, uncond: Tensor | null, rng: Rng, options: { noise?: Tensor } = {}): RewardSample {
  const B = cond.shape[0];
  const [C, h, w] = s.latentShape;
  const scheduler = s.scheduler;
  scheduler.setTimesteps(s.steps);
  const timesteps = scheduler.timesteps;
  const predictor = runPredictor(s.unet, s.checkpointing);
  const scale = s.guidanceScale;
  const guided = (x: Tensor, t: number) => guidedOutput(predictor, x, t, cond, scale === 1 ? null : uncond, scale);
  // fresh noise for stochastic schedulers, drawn before a step so a recomputed step sees the same
  const stepNoise = (): (() => Tensor) => {
    const z = rng.randn([B, C, h, w]);
    return () => z;
  };

  // 1. x_T ~ N(0, I) (or the caller's, for fixed-input comparisons)
  let x = options.noise ? options.noise.clone() : rng.randn([B, C, h, w]);
  // 2. the stop index j
  const j = drawStopIndex(s.method, timesteps.length, rng);
  // 3. steps 0 .. j-1 without gradient
  for (let i = 0; i < j; i++) {
    const prev = x;
    x = noGrad(() => tidy(() => scheduler.step(guided(prev, timesteps[i]), timesteps[i], prev, { noise: stepNoise() }).prevSample));
    prev.dispose();
  }
  // 4. steps j .. N-1 with gradient; x0 from the last of them
  const last = s.method.kind === 'refl' ? j : timesteps.length - 1;
  const wholeSteps = s.checkpointing && last > j; // DRaFT-K: keep one latent per step, recompute the step in backward
  const xStop = x;
  const kept: Tensor[] = [];
  const held = (t: Tensor): Tensor => {
    kept.push(keep(t));
    return t;
  };
  const out = tidy(() => {
    let x0: Tensor | null = null;
    for (let i = j; i <= last; i++) {
      const t = timesteps[i];
      const predict = (xi: Tensor): Tensor =>
        s.guidanceWithGradient && scale !== 1 && uncond ? guidedOutput(predictor, xi, t, cond, uncond, scale) : predictor.forward(xi, full([B], t), cond);
      // (the first step's input is constant: checkpoint() records a graph only through inputs that need one)
      // (checkpoint() reads its inputs again in backward: they are held until release())
      const eps = wholeSteps && x.requiresGrad ? checkpoint(predict, [held(x)]) : predict(x);
      if (i === last) x0 = scheduler.predOriginalSample(x, eps, t);
      else x = scheduler.step(eps, t, x, { noise: stepNoise() }).prevSample;
    }
    if (!x0) throw new TreeRewardError('INTERNAL', 'Expected an x0 estimate after the steps with gradient but received none');
    // 5. image = D(x0 / scaling_factor), mapped from [-1, 1] to [0, 1]
    const pixels = decode(s.vae, x0.div(s.vae.scalingFactor), s.checkpointing);
    return { image: pixels.add(1).div(2).clamp(0, 1), stopIndex: j, timestep: timesteps[j] };
  });
  xStop.dispose();
  return { ...out, release: () => kept.forEach((t) => t.dispose()) };
}
