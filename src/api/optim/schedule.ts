// schedule.ts: learning-rate schedules as factors of the base rate, applied with optimizer.setLrFactor().
import { expected } from '../../native/errors.js';
import { checkInt } from '../validate.js';

export type LrSchedule = (step: number) => number;

export function constantSchedule(): LrSchedule {
  return () => 1;
}

/** Linear warm-up from 0 to 1 over warmupSteps, then constant. */
export function linearWarmup(warmupSteps: number): LrSchedule {
  checkInt(warmupSteps, 'warmupSteps', 0);
  return (step) => (warmupSteps === 0 ? 1 : Math.min(1, (step + 1) / warmupSteps));
}

/** Linear warm-up, then cosine decay to minFactor at totalSteps. */
export function cosineSchedule(options: { warmupSteps?: number; totalSteps: number; minFactor?: number }): LrSchedule {
  const warm = checkInt(options.warmupSteps ?? 0, 'warmupSteps', 0);
  const total = checkInt(options.totalSteps, 'totalSteps', 1);
  const minF = options.minFactor ?? 0;
  if (!(minF >= 0 && minF <= 1)) throw expected('a number in [0, 1]', 'minFactor', minF);
  if (warm > total) throw expected(`warmupSteps <= totalSteps (${total})`, 'warmupSteps', warm);
  return (step) => {
    if (step < warm) return (step + 1) / warm;
    const t = Math.min(1, (step - warm) / Math.max(1, total - warm));
    return minF + (1 - minF) * 0.5 * (1 + Math.cos(Math.PI * t));
  };
}
