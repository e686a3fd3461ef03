// ddpm.ts: DDPM ancestral sampling (Ho et al. 2020, eq. 6-7) over the run's timesteps, as
// diffusers' DDPMScheduler ('fixed_small' variance): for a step t -> s,
//   alpha = abar_t / abar_s, beta = 1 - alpha
//   mean  = sqrt(abar_s) beta / (1 - abar_t) x0 + sqrt(alpha) (1 - abar_s) / (1 - abar_t) x_t
//   var   = (1 - abar_s) / (1 - abar_t) beta
//   x_s   = mean + sqrt(var) z          (no noise on the last step, where abar_s = 1)
import { TreeRewardError } from '../../native/errors.js';
import { tidy } from '../../api/scope.js';
import { type Tensor } from '../../api/tensor.js';
import { Scheduler, type StepOptions, type StepResult } from './scheduler.js';
import type { SchedulerConfigInput } from './scheduler-config.js';

export class DDPMScheduler extends Scheduler {
  constructor(config: Omit<SchedulerConfigInput, 'kind'> = {}) {
    super({ ...config, kind: 'ddpm' });
  }

  /** The posterior q(x_s | x_t, x0)'s coefficients of x0 and x_t, and its variance. */
  posterior(t: number, s: number): { x0: number; xt: number; variance: number } {
    const a = this.alphaAt(t), ap = this.alphaAt(s);
    const alpha = a / ap, beta = 1 - alpha;
    return {
      x0: (Math.sqrt(ap) * beta) / (1 - a),
      xt: (Math.sqrt(alpha) * (1 - ap)) / (1 - a),
      variance: Math.max(1e-20, ((1 - ap) / (1 - a)) * beta),
    };
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options: StepOptions = {}): StepResult {
    const s = this.target(t, options);
    return tidy(() => {
      const { x0 } = this.estimate(sample, modelOutput, t);
      const p = this.posterior(t, s);
      let prev = x0.mul(p.x0).add(sample.mul(p.xt));
      if (s >= 0) {
        if (!options.noise) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected options.noise for a DDPM step but received undefined');
        prev = prev.add(options.noise(sample.shape).mul(Math.sqrt(p.variance)));
      }
      return { prevSample: prev, predOriginalSample: x0 };
    });
  }
}
