// scheduler.ts: what every sampler shares: the noise schedule abar_t, the forward process
// x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, and the conversions between the model's output
// (eps, v or x0) and the pair (x0, eps). Schedulers work on Tensors; per step they compute a few
// scalars in JavaScript, never loop over elements. Sample shapes are (B, C, h, w); a timestep is a
// number shared by the batch or one number per sample.
import { expected, TreeRewardError } from '../../native/errors.js';
import { tensor } from '../../api/create.js';
import { tidy } from '../../api/scope.js';
import { Tensor } from '../../api/tensor.js';
import { alphasCumprod, betas, inferenceTimesteps } from './noise-schedule.js';
import { parseSchedulerConfig, type SchedulerConfig, type SchedulerConfigInput } from './scheduler-config.js';

/** Fresh standard normal noise of a shape (the sampler draws it per image from each image's seed). */
export type NoiseSource = (shape: number[]) => Tensor;

export interface StepOptions {
  /** Noise for the stochastic schedulers (DDPM, DDIM with eta > 0, ancestral Euler). */
  noise?: NoiseSource;
  /** The timestep to step to, for a t outside setTimesteps()'s list (-1: the end). Defaults to the next in the list. */
  prevTimestep?: number;
}

export interface StepResult {
  /** x at the previous (less noisy) timestep. */
  prevSample: Tensor;
  /** The model's estimate of x0 at this step. */
  predOriginalSample: Tensor;
}

export type Timestep = number | readonly number[];

export abstract class Scheduler {
  readonly config: SchedulerConfig;
  /** beta_t as float32 values, t = 0..T-1. */
  readonly betas: Float64Array;
  /** abar_t as float32 values, as PyTorch computes them. */
  readonly alphasCumprod: Float64Array;
  #timesteps: number[] = [];
  #index = new Map<number, number>();

  constructor(config: SchedulerConfigInput) {
    this.config = parseSchedulerConfig(config);
    const c = this.config;
    if (c.betaEnd < c.betaStart) throw expected(`a betaEnd >= betaStart (${c.betaStart})`, 'scheduler.betaEnd', c.betaEnd);
    this.betas = betas(c.betaSchedule, c.betaStart, c.betaEnd, c.numTrainTimesteps);
    this.alphasCumprod = alphasCumprod(this.betas);
  }

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  /** The timesteps of the current run, noisiest first (after setTimesteps). */
  get timesteps(): number[] {
    return [...this.#timesteps];
  }

  /** 1 for one model call per step; multistep solvers keep earlier outputs but still call once. */
  get order(): number {
    return 1;
  }

  /** Chooses the timesteps for `steps` inference steps and forgets any multistep state. */
  setTimesteps(steps: number): void {
    const c = this.config;
    this.#timesteps = inferenceTimesteps(steps, c.numTrainTimesteps, c.timestepSpacing, c.stepsOffset);
    this.#index = new Map(this.#timesteps.map((t, i) => [t, i]));
    this.reset();
  }

  /**
   * The timesteps an image-to-image run visits: the last round(steps * strength) of the list
   * (diffusers' get_timesteps). strength 1 starts from pure noise, 0 returns the input.
   */
  img2imgTimesteps(strength: number): number[] {
    if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) throw expected('a number in [0, 1]', 'strength', strength);
    if (this.#timesteps.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected setTimesteps() before img2imgTimesteps() but received no timesteps');
    const n = this.#timesteps.length;
    const start = n - Math.min(Math.floor(n * strength), n);
    return this.#timesteps.slice(start);
  }

  /** The timestep after t in the current list, or -1 after the last. */
  previousTimestep(t: number): number {
    const i = this.#index.get(t);
    if (i === undefined) {
      throw expected(`one of this run's timesteps (${this.#timesteps.length ? `${this.#timesteps[0]}, ..., ${this.#timesteps[this.#timesteps.length - 1]}` : 'none: call setTimesteps() first'}) or options.prevTimestep`, 't', t);
    }
    return i + 1 < this.#timesteps.length ? this.#timesteps[i + 1] : -1;
  }

  /** abar_t; t = -1 (past the last step) is the scheduler's final value. */
  alphaAt(t: number): number {
    if (t < 0) return this.finalAlphaCumprod();
    return this.alphasCumprod[this.checkTimestep(t)];
  }

  /** abar after the last step: 1 (a clean sample) unless a scheduler says otherwise. */
  protected finalAlphaCumprod(): number {
    return 1;
  }

  /** Forgets multistep state (called by setTimesteps). */
  protected reset(): void {}

  abstract step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult;

  // ---- the forward process and the model's parametrisations ----

  /** x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise. */
  addNoise(x0: Tensor, noise: Tensor, t: Timestep): Tensor {
    return tidy(() => {
      const a = this.#coef(t, x0, (ab) => Math.sqrt(ab)), s = this.#coef(t, x0, (ab) => Math.sqrt(1 - ab));
      return x0.mul(a).add(noise.mul(s));
    });
  }

  /** v = sqrt(abar_t) noise - sqrt(1 - abar_t) x0 (Salimans & Ho 2022), the v-prediction target. */
  velocity(x0: Tensor, noise: Tensor, t: Timestep): Tensor {
    return tidy(() => {
      const a = this.#coef(t, x0, (ab) => Math.sqrt(ab)), s = this.#coef(t, x0, (ab) => Math.sqrt(1 - ab));
      return noise.mul(a).sub(x0.mul(s));
    });
  }

  /** What the model is trained to output for (x0, noise, t): noise, v or x0 by predictionType. */
  trainingTarget(x0: Tensor, noise: Tensor, t: Timestep): Tensor {
    switch (this.config.predictionType) {
      case 'epsilon': return noise.clone();
      case 'v_prediction': return this.velocity(x0, noise, t);
      case 'sample': return x0.clone();
    }
  }

  /** The model's x0 estimate at (x_t, t): exact inverse of addNoise given the true noise. */
  predOriginalSample(sample: Tensor, modelOutput: Tensor, t: Timestep): Tensor {
    return tidy(() => {
      const a = this.#coef(t, sample, (ab) => Math.sqrt(ab)), s = this.#coef(t, sample, (ab) => Math.sqrt(1 - ab));
      switch (this.config.predictionType) {
        case 'epsilon': return sample.sub(modelOutput.mul(s)).div(a);
        case 'v_prediction': return sample.mul(a).sub(modelOutput.mul(s));
        case 'sample': return modelOutput.clone();
      }
    });
  }

  /** The model's noise estimate at (x_t, t). */
  predEpsilon(sample: Tensor, modelOutput: Tensor, t: Timestep): Tensor {
    return tidy(() => {
      const a = this.#coef(t, sample, (ab) => Math.sqrt(ab)), s = this.#coef(t, sample, (ab) => Math.sqrt(1 - ab));
      switch (this.config.predictionType) {
        case 'epsilon': return modelOutput.clone();
        case 'v_prediction': return modelOutput.mul(a).add(sample.mul(s));
        case 'sample': return sample.sub(modelOutput.mul(a)).div(s);
      }
    });
  }

  /** x0 and eps for one step; with clipSample, x0 is clamped and eps recomputed from it (diffusers' DDIM). */
  protected estimate(sample: Tensor, modelOutput: Tensor, t: number): { x0: Tensor; eps: Tensor } {
    const clip = this.config.clipSample;
    let x0 = this.predOriginalSample(sample, modelOutput, t);
    if (clip === null) return { x0, eps: this.predEpsilon(sample, modelOutput, t) };
    const clamped = x0.clamp(-clip, clip);
    x0.dispose();
    x0 = clamped;
    const ab = this.alphaAt(t);
    const eps = tidy(() => sample.sub(x0.mul(Math.sqrt(ab))).div(Math.sqrt(1 - ab)));
    return { x0, eps };
  }

  protected checkTimestep(t: unknown, name = 't'): number {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= this.config.numTrainTimesteps) {
      throw expected(`an integer timestep in [0, ${this.config.numTrainTimesteps - 1}]`, name, t);
    }
    return t;
  }

  /** The step's target timestep: options.prevTimestep, else the next in the list. */
  protected target(t: number, options: StepOptions): number {
    this.checkTimestep(t);
    if (options.prevTimestep === undefined) return this.previousTimestep(t);
    const p = options.prevTimestep;
    if (p !== -1) this.checkTimestep(p, 'options.prevTimestep');
    if (p >= t) throw expected(`a timestep below t (${t}) or -1`, 'options.prevTimestep', p);
    return p;
  }

  /** A coefficient f(abar_t): a number for a shared t, a (B, 1, ..., 1) tensor for one t per sample. */
  #coef(t: Timestep, like: Tensor, f: (abar: number) => number): number | Tensor {
    if (typeof t === 'number') return f(this.alphasCumprod[this.checkTimestep(t)]);
    if (!Array.isArray(t)) throw expected('a timestep or an array of timesteps', 't', t);
    const shape = like.shape;
    if (t.length !== shape[0]) throw expected(`${shape[0]} timesteps (one per sample)`, 't', t);
    const values = new Float32Array(t.length);
    t.forEach((v, i) => (values[i] = f(this.alphasCumprod[this.checkTimestep(v, `t[${i}]`)])));
    return tensor(values, [t.length, ...shape.slice(1).map(() => 1)], { dtype: like.dtype });
  }
}
