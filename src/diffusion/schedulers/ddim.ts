// ddim.ts: DDIM (Song et al. 2021, eq. 12). With eta 0 it is deterministic and matches the
// PyTorch peer's DDIM (shared/peers/torch_models.py) and diffusers' DDIMScheduler:
//   x0   = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)
//   x_s  = sqrt(abar_s) x0 + sqrt(1 - abar_s - sigma^2) eps + sigma z,
//   sigma = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s)
// where s is the next timestep of the run; past the last, abar_s is abar_0 (SD1.5's
// set_alpha_to_one false) or 1.
import { TreeRewardError } from '../../native/errors.js';
import { tidy } from '../../api/scope.js';
import { type Tensor } from '../../api/tensor.js';
import { Scheduler, type StepOptions, type StepResult } from './scheduler.js';
import type { SchedulerConfigInput } from './scheduler-config.js';

export class DDIMScheduler extends Scheduler {
  constructor(config: Omit<SchedulerConfigInput, 'kind'> = {}) {
    super({ ...config, kind: 'ddim' });
  }

  protected override finalAlphaCumprod(): number {
    return this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  /** sigma_t of eq. 16 for a step t -> s, at eta 1. */
  variance(t: number, s: number): number {
    const a = this.alphaAt(t), ap = this.alphaAt(s);
    return ((1 - ap) / (1 - a)) * (1 - a / ap);
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options: StepOptions = {}): StepResult {
    const s = this.target(t, options);
    const eta = this.config.eta;
    return tidy(() => {
      const ap = this.alphaAt(s);
      const { x0, eps } = this.estimate(sample, modelOutput, t);
      const sigma = eta * Math.sqrt(this.variance(t, s));
      // x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s - sigma^2) eps (+ sigma z)
      let prev = x0.mul(Math.sqrt(ap)).add(eps.mul(Math.sqrt(Math.max(0, 1 - ap - sigma * sigma))));
      if (sigma > 0) {
        if (!options.noise) throw new TreeRewardError('INVALID_ARGUMENT', `Expected options.noise for a DDIM step with eta ${eta} but received undefined`);
        prev = prev.add(options.noise(sample.shape).mul(sigma));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    });
  }
}
