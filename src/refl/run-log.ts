// run-log.ts: the run's JSONL log, one line per step (losses, R, per-leaf rewards, branch weights,
// stop indices, gradient norm, learning rate) and one per event (start, resume, abort, diverged,
// end). A resumed run first drops the lines after the step it resumes from, so the log reads as if
// the run had never stopped.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StepRecord {
  step: number;
  loss: number;
  lossPretrain: number | null;
  lossReward: number;
  reward: number;
  leaves: Record<string, number> | null;
  branches: Record<string, number> | null;
  stopIndices: number[];
  gradNorm: number;
  gradNormPretrain?: number;
  lr: number;
  seconds: number;
}

export interface EventRecord {
  event: 'start' | 'resume' | 'abort' | 'diverged' | 'end';
  /** Steps done when it happened. */
  step: number;
  [key: string]: unknown;
}

export class RunLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: StepRecord | EventRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  /** Keeps the lines of steps 1..step (and events up to it); drops what a killed run wrote after its checkpoint. */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8').split('\n').filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false; // a line cut short by a kill
      }
    });
    writeFileSync(this.path, kept.length ? `${kept.join('\n')}\n` : '');
  }

  /** Every record in the file. */
  static read(path: string): (StepRecord | EventRecord)[] {
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as StepRecord | EventRecord);
  }
}
