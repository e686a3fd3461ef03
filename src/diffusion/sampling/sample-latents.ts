// sample-latents.ts: the reverse process from seeded noise (text-to-image) or from noised latents of
// an image (image-to-image), with classifier-free guidance, progress and cancellation between steps.
// Runs without gradient. Image i's result depends only on (prompt i, seed i).
import { noGrad } from '../../api/autograd.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { checkFinite, checkInt, fmtShape } from '../../api/validate.js';
import { expected, TreeRewardError } from '../../native/errors.js';
import { throwIfAborted, yieldToEventLoop } from '../run-errors.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import type { NoisePredictor } from '../types.js';
import { guidedOutput } from './guidance.js';
import { ImageNoise } from './image-noise.js';

export interface SamplingProgress {
  /** Steps done, 1..totalSteps. */
  step: number;
  totalSteps: number;
  /** The timestep just denoised. */
  timestep: number;
}

export interface LatentSampling {
  unet: NoisePredictor;
  /** Used for this run alone (its timesteps are set here): one run at a time per scheduler. */
  scheduler: Scheduler;
  /** Text states of the prompts (B, M, D). */
  cond: Tensor;
  /** Text states of the negative (usually empty) prompts (B, M, D); needed unless guidanceScale is 1. */
  uncond?: Tensor | null;
  /** Defaults to 7.5. 1 runs the conditional model alone. */
  guidanceScale?: number;
  /** One per image: image i's initial and per-step noise come from seeds[i] alone. */
  seeds: readonly number[];
  /** Latent [channels, height, width] of one image. */
  latentShape: readonly [number, number, number];
  steps: number;
  /** Image-to-image: the image's scaled latents (B, C, h, w), noised to the timestep `strength` of the way up. */
  init?: { latents: Tensor; strength: number };
  signal?: AbortSignal;
  onStep?: (progress: SamplingProgress) => void;
}

/**
 * Denoises to clean latents (B, C, h, w) (scaled as the UNet sees them). An abort stops the run
 * between steps with TreeRewardError (INVALID_ARGUMENT, see run-errors.ts).
 */
export async function sampleLatents(r: LatentSampling): Promise<Tensor> {
  const B = r.seeds.length;
  const steps = checkInt(r.steps, 'steps', 1);
  const scale = checkFinite(r.guidanceScale ?? 7.5, 'guidanceScale');
  const [C, h, w] = r.latentShape;
  if (r.cond.shape[0] !== B) throw new TreeRewardError('SHAPE_MISMATCH', `Expected text states for ${B} images (one per seed) for cond but received ${fmtShape(r.cond.shape)}`);
  const uncond = r.uncond ?? null;
  if (uncond && fmtShape(uncond.shape) !== fmtShape(r.cond.shape)) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected uncond of the shape of cond ${fmtShape(r.cond.shape)} for uncond but received ${fmtShape(uncond.shape)}`);
  }
  const scheduler = r.scheduler;
  scheduler.setTimesteps(steps);
  const timesteps = r.init ? scheduler.img2imgTimesteps(r.init.strength) : scheduler.timesteps;
  const noise = new ImageNoise(r.seeds);

  // x_T ~ N(0, I), drawn per image; image-to-image: x_t = addNoise(z0, noise, t_start)
  let x = noGrad(() => {
    const z = noise.sample([B, C, h, w]);
    if (!r.init) return z;
    const z0 = r.init.latents;
    if (fmtShape(z0.shape) !== fmtShape([B, C, h, w])) throw new TreeRewardError('SHAPE_MISMATCH', `Expected init latents of shape ${fmtShape([B, C, h, w])} for init.latents but received ${fmtShape(z0.shape)}`);
    const out = timesteps.length ? scheduler.addNoise(z0, z, timesteps[0]) : z0.clone();
    z.dispose();
    return out;
  });
  try {
    for (let i = 0; i < timesteps.length; i++) {
      throwIfAborted(r.signal, 'sampling', `before step ${i + 1} of ${timesteps.length}`);
      const t = timesteps[i];
      const prev = x;
      x = noGrad(() => tidy(() => {
        const out = guidedOutput(r.unet, prev, t, r.cond, uncond, scale);
        return scheduler.step(out, t, prev, { noise: noise.source() }).prevSample;
      }));
      prev.dispose();
      r.onStep?.({ step: i + 1, totalSteps: timesteps.length, timestep: t });
      await yieldToEventLoop();
    }
  } catch (err) {
    x.dispose();
    throw err;
  }
  return x;
}

/** Checks an image-to-image strength. */
export function checkStrength(strength: unknown): number {
  if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) throw expected('a number in [0, 1]', 'strength', strength);
  return strength;
}
