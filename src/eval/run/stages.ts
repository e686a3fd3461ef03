// stages.ts: a run as an ordered registry of stages, each checkpointed in run.json. A stage that is
// done is skipped on a rerun; one that was stopped runs again (and resumes from its own
// checkpoints); one that waited for an input that did not exist yet is tried again, and when it now
// runs, the stages after it run again too (their inputs changed). A waiting stage does not stop the
// run: later stages see that its outputs are missing and say so. Ctrl-C (the signal) stops the stage
// in progress, records it as stopped and returns.
import { doneOutputs, readManifest, stageRecord, writeManifest, type RunManifest, type StageRecord } from './run-dir.js';

/** How often a running stage writes its time so far into run.json. */
const TIME_WRITE_MS = 30_000;

export type StageOutcome =
  | { status: 'done'; summary: string; outputs: Record<string, unknown> }
  /** An input does not exist yet: `reason` says which and where it will come from. */
  | { status: 'waiting'; reason: string; outputs?: Record<string, unknown> };

export interface StageContext {
  runDir: string;
  manifest: RunManifest;
  /** Outputs of an earlier stage that is done (undefined otherwise). */
  outputsOf<T = Record<string, unknown>>(stage: string): T | undefined;
  /** A progress bar for the stage (label, total); no-op off a terminal. */
  progress(label: string, total?: number): { update(value: number, total?: number): void; stop(): void };
  /** A line of output under the stage's line. */
  log(line: string): void;
  signal: AbortSignal;
}

export interface Stage {
  name: string;
  title: string;
  run(ctx: StageContext): Promise<StageOutcome>;
}

/** The ordered stages of a run; the demo registers its own, tests and later work replace one by name. */
export class StageRegistry {
  readonly #stages: Stage[] = [];

  register(stage: Stage): this {
    if (this.#stages.some((s) => s.name === stage.name)) throw new Error(`Expected a new stage name for register but received ${JSON.stringify(stage.name)} (already registered; use replace)`);
    this.#stages.push(stage);
    return this;
  }

  /** Swaps the stage of the same name (a real ReFL stage for the waiting one, a stand-in in a test). */
  replace(stage: Stage): this {
    const i = this.#stages.findIndex((s) => s.name === stage.name);
    if (i < 0) throw new Error(`Expected a registered stage name for replace but received ${JSON.stringify(stage.name)} (registered: ${this.names().join(', ')})`);
    this.#stages[i] = stage;
    return this;
  }

  get(name: string): Stage | undefined {
    return this.#stages.find((s) => s.name === name);
  }

  names(): string[] {
    return this.#stages.map((s) => s.name);
  }

  list(): readonly Stage[] {
    return this.#stages;
  }
}

export interface RunEvents {
  /** Before a stage runs (or is skipped). */
  onStageStart?: (index: number, total: number, stage: Stage, skipped: boolean) => void;
  /** After it: its record as saved. */
  onStageEnd?: (index: number, total: number, record: StageRecord, skipped: boolean) => void;
  log?: (line: string) => void;
  progress?: StageContext['progress'];
  /** Stop after this stage (tests of resuming). */
  stopAfter?: string;
}

export interface RunResult {
  manifest: RunManifest;
  /** True when the run was stopped (signal or stopAfter) before its last stage. */
  stopped: boolean;
}

/** Runs the registry's stages over the run in `runDir` (whose run.json must exist). */
export async function runStages(runDir: string, registry: StageRegistry, signal: AbortSignal, events: RunEvents = {}): Promise<RunResult> {
  const manifest = readManifest(runDir);
  const stages = registry.list();
  // The manifest lists every registered stage in order (a stage registered later is added pending).
  manifest.stages = stages.map((s) => stageRecord(manifest, s.name) ?? { name: s.name, title: s.title, status: 'pending', seconds: 0, sittings: 0, outputs: {} });
  writeManifest(runDir, manifest);
  let rerunLater = false;
  for (const [i, stage] of stages.entries()) {
    const record = manifest.stages[i]!;
    record.title = stage.title;
    if (rerunLater && record.status !== 'pending') {
      record.status = 'pending';
      record.outputs = {};
      delete record.summary;
      delete record.reason;
    }
    const skipped = record.status === 'done';
    events.onStageStart?.(i, stages.length, stage, skipped);
    if (skipped) {
      events.onStageEnd?.(i, stages.length, record, true);
    } else {
      if (signal.aborted) return { manifest, stopped: true };
      const wasWaiting = record.status === 'waiting';
      record.status = 'running';
      delete record.reason;
      // The sitting counts from its start and its time is written every 30 s, so that a sitting ended by a
      // kill (not a clean stop) still shows in the stage's time.
      record.sittings++;
      let counted = Date.now();
      const account = () => {
        const now = Date.now();
        record.seconds += (now - counted) / 1000;
        counted = now;
      };
      writeManifest(runDir, manifest);
      const ticker = setInterval(() => {
        account();
        writeManifest(runDir, manifest);
      }, TIME_WRITE_MS);
      ticker.unref();
      try {
        const outcome = await stage.run({
          runDir, manifest,
          outputsOf: <T,>(name: string) => doneOutputs<T>(manifest, name),
          progress: events.progress ?? (() => ({ update() {}, stop() {} })),
          log: events.log ?? (() => {}),
          signal,
        });
        record.status = outcome.status;
        record.outputs = outcome.outputs ?? {};
        if (outcome.status === 'done') {
          record.summary = outcome.summary;
          record.finishedAt = new Date().toISOString();
          if (wasWaiting) rerunLater = true; // its outputs are new: what came after used stand-ins
        } else {
          record.reason = outcome.reason;
        }
      } catch (e) {
        clearInterval(ticker);
        record.status = signal.aborted ? 'stopped' : 'failed';
        record.reason = signal.aborted ? 'stopped by the user (Ctrl-C); run the same command again to resume' : (e as Error).message;
        account();
        writeManifest(runDir, manifest);
        events.onStageEnd?.(i, stages.length, record, false);
        if (signal.aborted) return { manifest, stopped: true };
        throw e;
      }
      clearInterval(ticker);
      account();
      writeManifest(runDir, manifest);
      events.onStageEnd?.(i, stages.length, record, false);
    }
    if (events.stopAfter === stage.name && i < stages.length - 1) return { manifest, stopped: true };
  }
  return { manifest, stopped: false };
}
