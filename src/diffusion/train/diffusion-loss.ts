// diffusion-loss.ts: the latent diffusion loss of the paper's eq. 1,
//   L = E_{z0, c, eps ~ N(0, I), t} || eps - eps_theta(x_t, t, c) ||^2,
//   x_t = sqrt(abar_t) z0 + sqrt(1 - abar_t) eps,   z0 = E(x) * scaling_factor,
// with t uniform over the training timesteps and the caption dropped to "" at a rate, so the same
// model also learns the unconditional prediction that classifier-free guidance needs.
import { noGrad } from '../../api/autograd.js';
import { tensor, type Rng } from '../../api/create.js';
import { F } from '../../api/index.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { posteriorSample } from '../latent-posterior.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { DiffusionModels } from '../types.js';
import type { ImageTextBatch } from './image-text-data.js';

export interface DiffusionLossOptions {
  /** The share of captions replaced by "" (the unconditional prompt). */
  captionDropRate: number;
  /** Keep the text encoder's graph so its parameters get gradients. */
  trainTextEncoder: boolean;
}

/** B timesteps uniform over [0, T). */
export function uniformTimesteps(rng: Rng, batch: number, trainSteps: number): number[] {
  const u = rng.rand([batch], { dtype: 'float64' });
  const t = Array.from(u.toArray(), (v) => Math.min(trainSteps - 1, Math.floor(v * trainSteps)));
  u.dispose();
  return t;
}

/** Each caption replaced by "" with probability `rate`. */
export function dropCaptions(prompts: string[], rng: Rng, rate: number): string[] {
  if (rate === 0) return [...prompts];
  const u = rng.rand([prompts.length], { dtype: 'float64' });
  const keep = Array.from(u.toArray(), (v) => v >= rate);
  u.dispose();
  return prompts.map((p, i) => (keep[i] ? p : ''));
}

/** Eq. 1 on one batch; the VAE is frozen, the UNet (and optionally the text encoder) keep their graphs. */
export function diffusionLoss(models: DiffusionModels, scheduler: Scheduler, batch: ImageTextBatch, rng: Rng, options: DiffusionLossOptions): Tensor {
  const { unet, vae, tokenizer, textEncoder } = models;
  const B = batch.prompts.length;
  return tidy(() => {
    // z0 = E(x).sample * scaling_factor, without gradient (the VAE is frozen)
    const z0 = noGrad(() => posteriorSample(vae.encode(batch.pixels), rng).mul(vae.scalingFactor));
    // t ~ U{0, ..., T-1}, eps ~ N(0, I)
    const t = uniformTimesteps(rng, B, scheduler.numTrainTimesteps);
    const eps = rng.randn(z0.shape);
    // x_t = sqrt(abar_t) z0 + sqrt(1 - abar_t) eps
    const xt = scheduler.addNoise(z0, eps, t);
    // c = tau(y), y dropped to "" at captionDropRate
    const ids = tokenizer.tokenize(dropCaptions(batch.prompts, rng, options.captionDropRate));
    const c = options.trainTextEncoder ? textEncoder.encode(ids) : noGrad(() => textEncoder.encode(ids));
    // L = || eps - eps_theta(x_t, t, c) ||^2   (eq. 1; v or x0 is the target for those parametrisations)
    const prediction = unet.forward(xt, tensor(new Float32Array(t), [B]), c);
    return F.mseLoss(prediction, scheduler.trainingTarget(z0, eps, t));
  });
}
