// run-status.ts: where a run directory stands, from its files alone (nothing is loaded or run), for
// `treereward status RUN_DIR`: each stage's status and time from run.json, and inside the reward and ReFL
// stages how many of their runs are finished and how far the one in progress has come. For a demo that
// takes hours over several sittings (--full), so a user sees what is left before resuming it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REFL_LOG } from '../../refl/run-refl.js';
import { TRAIN_LOG } from './reward-training.js';
import { readManifest, type StageStatus } from './run-dir.js';
import { reflDir, REFL_RESULT } from './stages/refl-stage.js';
import { rewardDir, REWARD_SUMMARY } from './stages/reward-stage.js';

export interface RunStatus {
  runDir: string;
  mode: string;
  seed: number;
  /** Rerun it to resume. */
  command: string;
  stages: { name: string; title: string; status: StageStatus; seconds: number; sittings: number; summary?: string; reason?: string }[];
  /** Trained reward models (rewards/<variant>/seed-<s>/accuracy.json) of the variants x seeds the config asks. */
  rewards: RunsProgress;
  /** Tuned generators (refl/<variant>/seed-<s>/result.json). */
  refl: RunsProgress;
}

export interface RunsProgress {
  done: number;
  total: number;
  /** Runs with a log but no result: the one a stopped sitting left, with its last logged step. */
  inProgress: { run: string; step: number | null; of: number | null; member?: string }[];
}

/** The last line of a JSONL log with a numeric `step` (and its `member`: decouple logs one model per dimension). */
function lastStep(file: string): { step: number; member?: string } | null {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const line = JSON.parse(lines[i]) as { step?: unknown; member?: unknown };
      if (typeof line.step === 'number') return { step: line.step, ...(typeof line.member === 'string' ? { member: line.member } : {}) };
    } catch {
      // a line cut by a kill: look further up
    }
  }
  return null;
}

function progress(runDir: string, dirOf: (variant: string, seed: number) => string, variants: string[], seeds: number, resultFile: string, logFile: string, steps: number | null): RunsProgress {
  const out: RunsProgress = { done: 0, total: variants.length * seeds, inProgress: [] };
  for (const v of variants) {
    for (let s = 0; s < seeds; s++) {
      const dir = join(runDir, dirOf(v, s));
      if (existsSync(join(dir, resultFile))) out.done++;
      else if (existsSync(dir) && readdirSync(dir).length > 0) {
        const last = lastStep(join(dir, logFile));
        // a decouple member's steps count within that member, not against the run's total
        out.inProgress.push({ run: `${v} seed ${s}`, step: last?.step ?? null, of: last?.member ? null : steps, ...(last?.member ? { member: last.member } : {}) });
      }
    }
  }
  return out;
}

export function runStatus(runDir: string): RunStatus {
  const m = readManifest(runDir);
  const c = m.config as { variants?: string[]; trainingSeeds?: number; rewardSteps?: number; refl?: { steps?: number } };
  const variants = Array.isArray(c.variants) ? c.variants : [];
  const seeds = typeof c.trainingSeeds === 'number' ? c.trainingSeeds : 0;
  return {
    runDir, mode: m.mode, seed: m.seed, command: m.command,
    stages: m.stages.map((s) => ({ name: s.name, title: s.title, status: s.status, seconds: s.seconds, sittings: s.sittings, summary: s.summary, reason: s.reason })),
    rewards: progress(runDir, rewardDir, variants, seeds, REWARD_SUMMARY, TRAIN_LOG, c.rewardSteps ?? null),
    refl: progress(runDir, reflDir, variants, seeds, REFL_RESULT, REFL_LOG, c.refl?.steps ?? null),
  };
}

/** The status as lines for a terminal. */
export function statusLines(st: RunStatus): string[] {
  const mins = (s: number) => `${(s / 60).toFixed(1)} min`;
  const lines = [`${st.runDir}: ${st.mode} run, seed ${st.seed}; resume with: ${st.command}`];
  for (const s of st.stages) {
    const time = s.seconds > 0 ? ` (${mins(s.seconds)}${s.sittings > 1 ? ` over ${s.sittings} sittings` : ''})` : '';
    lines.push(`  ${s.title}: ${s.status}${time}${s.summary ? `: ${s.summary}` : s.reason ? `: ${s.reason}` : ''}`);
  }
  for (const [what, p] of [['reward runs', st.rewards], ['ReFL runs', st.refl]] as const) {
    if (p.total === 0) continue;
    const open = p.inProgress.map((r) => `${r.run} at ${r.member ? `its ${r.member} model's ` : ''}step ${r.step ?? '?'}${r.of ? ` of ${r.of}` : ''}`).join(', ');
    lines.push(`  ${what}: ${p.done} of ${p.total} finished${open ? `; in progress: ${open}` : ''}`);
  }
  return lines;
}
