// train-log.ts: a pretraining run's train-log.jsonl (one line per step: loss, parts, ms, lr; one per
// held-out check) read back: the first and last losses and the summed step time, each step counted
// once (a resumed run's repeats of steps lost after the last checkpoint replace the lost lines).
import { existsSync, readFileSync } from 'node:fs';

export interface StepLogSummary {
  losses: { first: number | null; last: number | null; lastMean: number | null };
  /** Summed wall time of the logged steps (each counted once, a resumed run's repeats replacing the lost ones). */
  stepSeconds: number;
  msPerStep: number;
}

/** Losses and step times from a train-log.jsonl, over steps 1..endStep. */
export function readStepLog(logFile: string, endStep: number): StepLogSummary {
  const byStep = new Map<number, { loss: number; ms: number }>();
  if (existsSync(logFile)) {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line) continue;
      const j = JSON.parse(line) as { step: number; loss?: number; ms?: number };
      if (j.loss !== undefined && j.step <= endStep) byStep.set(j.step, { loss: j.loss, ms: j.ms ?? 0 });
    }
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  if (steps.length === 0) return { losses: { first: null, last: null, lastMean: null }, stepSeconds: 0, msPerStep: 0 };
  const tail = steps.slice(-Math.min(20, steps.length)).map((s) => byStep.get(s)!.loss);
  const ms = steps.reduce((a, s) => a + byStep.get(s)!.ms, 0);
  return {
    losses: { first: byStep.get(steps[0])!.loss, last: byStep.get(steps[steps.length - 1])!.loss, lastMean: tail.reduce((a, b) => a + b, 0) / tail.length },
    stepSeconds: ms / 1000,
    msPerStep: ms / steps.length,
  };
}
