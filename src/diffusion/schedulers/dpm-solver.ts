// dpm-solver.ts: DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2; diffusers' DPMSolverMultistepScheduler
// with algorithm_type "dpmsolver++", solver_order 2, midpoint, final sigma 0). With
// alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t), lambda_t = log(alpha_t / sigma_t), for a step
// t -> s with h = lambda_s - lambda_t and the model's x0 estimates D0 (now) and D_prev (last step):
//   first order:  x_s = (sigma_s / sigma_t) x_t - alpha_s (e^-h - 1) D0
//   second order: x_s = (sigma_s / sigma_t) x_t - alpha_s (e^-h - 1) (D0 + (D0 - D_prev) / (2 r)),
//                 r = h_prev / h
// The first step and the last (to sigma 0, where x_s = D0) are first order.
import { keep, tidy } from '../../api/scope.js';
import { type Tensor } from '../../api/tensor.js';
import { Scheduler, type StepOptions, type StepResult } from './scheduler.js';
import type { SchedulerConfigInput } from './scheduler-config.js';

export class DPMSolverPlusPlusScheduler extends Scheduler {
  #prevX0: Tensor | null = null;
  #prevLambda = NaN;

  constructor(config: Omit<SchedulerConfigInput, 'kind'> = {}) {
    super({ ...config, kind: 'dpm-solver++' });
  }

  override get order(): number {
    return 2;
  }

  /** lambda_t = log(alpha_t / sigma_t); +infinity past the last step. */
  lambda(t: number): number {
    const a = this.alphaAt(t);
    return 0.5 * Math.log(a) - 0.5 * Math.log(1 - a);
  }

  protected override reset(): void {
    this.#prevX0?.dispose();
    this.#prevX0 = null;
    this.#prevLambda = NaN;
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options: StepOptions = {}): StepResult {
    const s = this.target(t, options);
    const at = this.alphaAt(t), as = this.alphaAt(s);
    const lt = this.lambda(t), ls = this.lambda(s);
    const last = s < 0 || as >= 1;
    const prevX0 = this.#prevX0, prevLambda = this.#prevLambda;
    const out = tidy(() => {
      const x0 = this.predOriginalSample(sample, modelOutput, t);
      if (last) return { prevSample: x0.clone(), predOriginalSample: x0 };
      const h = ls - lt;
      const ratio = Math.sqrt(1 - as) / Math.sqrt(1 - at);
      const phi = -Math.sqrt(as) * Math.expm1(-h); // -alpha_s (e^-h - 1)
      let d = x0;
      if (prevX0) {
        const r = (lt - prevLambda) / h;
        d = x0.add(x0.sub(prevX0).div(2 * r));
      }
      return { prevSample: sample.mul(ratio).add(d.mul(phi)), predOriginalSample: x0 };
    });
    prevX0?.dispose();
    this.#prevX0 = last ? null : keep(out.predOriginalSample.clone());
    this.#prevLambda = lt;
    return out;
  }
}
