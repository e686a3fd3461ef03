// euler.ts: Euler's method on the probability-flow ODE in sigma = sqrt((1 - abar) / abar)
// (Karras et al. 2022; diffusers' EulerDiscreteScheduler), and its ancestral variant
// (EulerAncestralDiscreteScheduler). diffusers keeps x_sigma = x_t / sqrt(abar_t) between steps;
// this scheduler keeps x_t, as the others do, and converts at each step, so addNoise,
// predOriginalSample and the model input are the same for every scheduler:
//   x_sigma = x_t sqrt(1 + sigma^2),  d = (x_sigma - x0) / sigma
//   x_sigma' = x_sigma + (sigma' - sigma) d                                  (Euler)
//   x_sigma' = x_sigma + (sigma_down - sigma) d + sigma_up z                 (ancestral)
//     sigma_up = sqrt(sigma'^2 (sigma^2 - sigma'^2) / sigma^2), sigma_down = sqrt(sigma'^2 - sigma_up^2)
//   x_t' = x_sigma' / sqrt(1 + sigma'^2)
// The last step goes to sigma' = 0. (Plain Euler is then DDIM with eta 0 and set_alpha_to_one.)
import { TreeRewardError } from '../../native/errors.js';
import { tidy } from '../../api/scope.js';
import { type Tensor } from '../../api/tensor.js';
import { Scheduler, type StepOptions, type StepResult } from './scheduler.js';
import type { SchedulerConfigInput } from './scheduler-config.js';

export class EulerScheduler extends Scheduler {
  constructor(config: Omit<SchedulerConfigInput, 'kind'> = {}) {
    super({ ...config, kind: 'euler' });
  }

  /** sigma_t = sqrt((1 - abar_t) / abar_t); 0 past the last step. */
  sigma(t: number): number {
    const a = this.alphaAt(t);
    return Math.sqrt((1 - a) / a);
  }

  /** The ancestral step's split of sigma' into a deterministic part and fresh noise. */
  ancestralSigmas(sigma: number, sigmaNext: number): { up: number; down: number } {
    const up = Math.sqrt(Math.max(0, (sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
    return { up, down: Math.sqrt(Math.max(0, sigmaNext ** 2 - up ** 2)) };
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options: StepOptions = {}): StepResult {
    const s = this.target(t, options);
    const sigma = this.sigma(t), sigmaNext = this.sigma(s);
    const ancestral = this.config.ancestral;
    return tidy(() => {
      const x0 = this.predOriginalSample(sample, modelOutput, t);
      const xs = sample.mul(Math.sqrt(1 + sigma * sigma));
      const d = xs.sub(x0).div(sigma);
      let next: Tensor;
      if (!ancestral) {
        next = xs.add(d.mul(sigmaNext - sigma));
      } else {
        const { up, down } = this.ancestralSigmas(sigma, sigmaNext);
        next = xs.add(d.mul(down - sigma));
        if (up > 0) {
          if (!options.noise) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected options.noise for an ancestral Euler step but received undefined');
          next = next.add(options.noise(sample.shape).mul(up));
        }
      }
      return { prevSample: next.div(Math.sqrt(1 + sigmaNext * sigmaNext)), predOriginalSample: x0 };
    });
  }
}
