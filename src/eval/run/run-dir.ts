// run-dir.ts: the RUN_DIR that `treereward demo` (and `treereward eval --out`) writes and
// `treereward report` reads. run.json, the manifest, lists the stages in order with their status and
// outputs (paths relative to RUN_DIR); it is rewritten atomically after every change, so a stopped
// run knows where it stopped. The layout:
//   run.json                              the manifest (format treereward-run/1)
//   data/                                 the feedback store (pairs, images)
//   rewards/<variant>/seed-<s>/model/     a trained reward model (reward.json + weights.safetensors)
//   rewards/<variant>/seed-<s>/ckpt/      its training checkpoint (resume)
//   rewards/<variant>/seed-<s>/train-log.jsonl   one line per optimizer step
//   rewards/<variant>/seed-<s>/accuracy.json     held-out pairwise accuracy
//   refl/<variant>/seed-<s>/              a tuned generator and its log.jsonl (the ReFL stage)
//   eval/evaluation.json                  generators, prompts, comparisons, notices
//   eval/chunks-<settings>.jsonl          the evaluation records, one line per finished chunk
//   eval/images/<generator>/<dim>-<k>.png images kept for the report's grids
//   report/index.html, report/figures/*.png
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_MANIFEST = 'run.json';
export const RUN_FORMAT = 'treereward-run/1';

export type StageStatus = 'pending' | 'running' | 'done' | 'waiting' | 'stopped' | 'failed';

export interface StageRecord {
  name: string;
  title: string;
  status: StageStatus;
  /** waiting: which input does not exist yet; failed / stopped: what happened. */
  reason?: string;
  /** The line printed when the stage finished. */
  summary?: string;
  /** Wall time spent in the stage, summed over sittings. */
  seconds: number;
  /** Sittings the stage ran in (1 when it ran straight through). */
  sittings: number;
  finishedAt?: string;
  /** Paths relative to RUN_DIR and small facts; each stage documents its own. */
  outputs: Record<string, unknown>;
}

export interface RunManifest {
  format: typeof RUN_FORMAT;
  /** 'quick' | 'default' | 'full' for the demo, 'eval' for `treereward eval --out`. */
  mode: string;
  seed: number;
  /** The command that made the run (rerun it to resume). */
  command: string;
  /** The settings every stage used; a resumed run must have the same. */
  config: Record<string, unknown>;
  createdAt: string;
  stages: StageRecord[];
}

export function manifestPath(runDir: string): string {
  return join(runDir, RUN_MANIFEST);
}

export function readManifest(runDir: string): RunManifest {
  const file = manifestPath(runDir);
  if (!existsSync(file)) throw new Error(`Expected a run directory with ${RUN_MANIFEST} for RUN_DIR but received ${JSON.stringify(runDir)} (no ${RUN_MANIFEST} in it)`);
  let m: RunManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
  } catch (e) {
    throw new Error(`Expected JSON in ${file} but ${(e as Error).message}`);
  }
  if (m.format !== RUN_FORMAT || !Array.isArray(m.stages)) throw new Error(`Expected format ${RUN_FORMAT} in ${file} but received ${JSON.stringify(m.format)}`);
  return m;
}

export function writeManifest(runDir: string, m: RunManifest): void {
  mkdirSync(runDir, { recursive: true });
  const file = manifestPath(runDir);
  const tmp = `${file}.partial`;
  writeFileSync(tmp, JSON.stringify(m, null, 2) + '\n');
  renameSync(tmp, file);
}

export function stageRecord(m: RunManifest, name: string): StageRecord | undefined {
  return m.stages.find((s) => s.name === name);
}

/** A done stage's outputs, else undefined. */
export function doneOutputs<T = Record<string, unknown>>(m: RunManifest, name: string): T | undefined {
  const s = stageRecord(m, name);
  return s?.status === 'done' ? (s.outputs as T) : undefined;
}

/** Reads a JSON file of the run (path relative to RUN_DIR). */
export function readRunJson<T>(runDir: string, rel: string): T {
  const file = join(runDir, rel);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`Expected the run's JSON file ${rel} in ${runDir} but ${(e as Error).message}`);
  }
}

/** Lines of a JSONL file of the run; a line cut short by a kill is skipped. */
export function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // partial last line
    }
  }
  return out;
}

/** A file name for a generator name ("tuned-tree/seed-1" -> "tuned-tree_seed-1"). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}
