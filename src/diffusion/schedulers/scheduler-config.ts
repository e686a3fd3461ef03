// scheduler-config.ts: what a scheduler is built from (diffusers' scheduler_config.json fields in
// camelCase), checked with zod. The defaults are Stable Diffusion 1.5's.
import { z } from 'zod';

import { parseWith } from '../config-check.js';

export const SCHEDULER_KINDS = ['ddpm', 'ddim', 'euler', 'dpm-solver++'] as const;
export type SchedulerKind = (typeof SCHEDULER_KINDS)[number];
export const PREDICTION_TYPES = ['epsilon', 'v_prediction', 'sample'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export const schedulerConfigSchema = z.strictObject({
  kind: z.enum(SCHEDULER_KINDS),
  /** Defaults to 1000. */
  numTrainTimesteps: z.int().min(2).default(1000),
  /** Defaults to 0.00085. */
  betaStart: z.number().positive().lt(1).default(0.00085),
  /** Defaults to 0.012. */
  betaEnd: z.number().positive().lt(1).default(0.012),
  /** Defaults to "scaled_linear". */
  betaSchedule: z.enum(['scaled_linear', 'linear']).default('scaled_linear'),
  /** What the model predicts: the noise, the velocity v = sqrt(abar) eps - sqrt(1 - abar) x0, or x0. Defaults to "epsilon". */
  predictionType: z.enum(PREDICTION_TYPES).default('epsilon'),
  /** Defaults to "leading". */
  timestepSpacing: z.enum(['leading', 'trailing', 'linspace']).default('leading'),
  /** Added to 'leading' timesteps. Defaults to 1. */
  stepsOffset: z.int().min(0).default(1),
  /** DDIM: whether the step after the last goes to abar = 1 (else abar_0, as SD1.5). Defaults to false. */
  setAlphaToOne: z.boolean().default(false),
  /** DDIM: the share of the posterior's noise that is fresh (0 = deterministic, 1 = DDPM-like). Defaults to 0. */
  eta: z.number().min(0).default(0),
  /** Euler: ancestral sampling (fresh noise each step). Defaults to false. */
  ancestral: z.boolean().default(false),
  /** DDPM and DDIM: clamp the x0 prediction to [-clipSample, clipSample]; null for none. Defaults to null. */
  clipSample: z.number().positive().nullable().default(null),
});

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;
export type SchedulerConfigInput = z.input<typeof schedulerConfigSchema>;

export function parseSchedulerConfig(value: unknown, name = 'scheduler'): SchedulerConfig {
  return parseWith(schedulerConfigSchema, value, name);
}
