// index.ts: the schedulers, and one constructor from a config's kind.
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverPlusPlusScheduler } from './dpm-solver.js';
import { EulerScheduler } from './euler.js';
import type { Scheduler } from './scheduler.js';
import { parseSchedulerConfig, type SchedulerConfigInput } from './scheduler-config.js';

/** A scheduler of config.kind: "ddpm", "ddim", "euler" (ancestral: true for Euler a) or "dpm-solver++". */
export function createScheduler(config: SchedulerConfigInput): Scheduler {
  const c = parseSchedulerConfig(config);
  switch (c.kind) {
    case 'ddpm': return new DDPMScheduler(c);
    case 'ddim': return new DDIMScheduler(c);
    case 'euler': return new EulerScheduler(c);
    case 'dpm-solver++': return new DPMSolverPlusPlusScheduler(c);
  }
}

export { DDIMScheduler, DDPMScheduler, DPMSolverPlusPlusScheduler, EulerScheduler };
export { Scheduler, type NoiseSource, type StepOptions, type StepResult, type Timestep } from './scheduler.js';
export { SCHEDULER_KINDS, PREDICTION_TYPES, schedulerConfigSchema, parseSchedulerConfig, type SchedulerConfig, type SchedulerConfigInput, type SchedulerKind, type PredictionType } from './scheduler-config.js';
export { alphasCumprod, betas, inferenceTimesteps, torchLinspaceF32, type BetaSchedule, type TimestepSpacing } from './noise-schedule.js';
