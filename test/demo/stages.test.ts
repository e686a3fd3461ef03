// stages.test.ts: the stage registry and its runner on stand-in stages: order and names, resuming
// (done stages skipped, a stopped one run again), a waiting stage that later runs re-runs the stages
// after it, failures recorded with their message, and a run directory made with other settings refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { openRun } from '../../src/eval/run/demo.js';
import { readManifest } from '../../src/eval/run/run-dir.js';
import { runStages, StageRegistry, type Stage, type StageOutcome } from '../../src/eval/run/stages.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-stages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function counting(name: string, outcome: () => StageOutcome, runs: string[]): Stage {
  return { name, title: `stage ${name}`, run: async () => (runs.push(name), outcome()) };
}
const done = (summary: string): StageOutcome => ({ status: 'done', summary, outputs: { summary } });

describe('stage registry', () => {
  it('keeps stages in order and refuses repeats and unknown replacements', () => {
    const r = new StageRegistry().register(counting('a', () => done('a'), [])).register(counting('b', () => done('b'), []));
    expect(r.names()).toEqual(['a', 'b']);
    expect(() => r.register(counting('a', () => done('a'), []))).toThrow('Expected a new stage name for register but received "a" (already registered; use replace)');
    expect(() => r.replace(counting('c', () => done('c'), []))).toThrow('Expected a registered stage name for replace but received "c" (registered: a, b)');
    r.replace({ name: 'b', title: 'new b', run: async () => done('new') });
    expect(r.get('b')!.title).toBe('new b');
  });

  it('resumes: done stages are skipped, a stopped run goes on from the stage after the last done one', async () => {
    const run = join(dir, 'resume');
    openRun(run, 'test', 0, { n: 1 }, 'test');
    const runs: string[] = [];
    const registry = () => new StageRegistry().register(counting('a', () => done('A'), runs)).register(counting('b', () => done('B'), runs)).register(counting('c', () => done('C'), runs));
    const first = await runStages(run, registry(), new AbortController().signal, { stopAfter: 'a' });
    expect(first.stopped).toBe(true);
    expect(readManifest(run).stages.map((s) => s.status)).toEqual(['done', 'pending', 'pending']);
    const second = await runStages(run, registry(), new AbortController().signal);
    expect(second.stopped).toBe(false);
    expect(runs).toEqual(['a', 'b', 'c']);
    const m = readManifest(run);
    expect(m.stages.map((s) => [s.name, s.status, s.sittings, s.summary])).toEqual([['a', 'done', 1, 'A'], ['b', 'done', 1, 'B'], ['c', 'done', 1, 'C']]);
    await runStages(run, registry(), new AbortController().signal);
    expect(runs).toEqual(['a', 'b', 'c']); // nothing ran again
  });

  it('a waiting stage does not stop the run; when it later runs, the stages after it run again', async () => {
    const run = join(dir, 'waiting');
    openRun(run, 'test', 0, { n: 2 }, 'test');
    const runs: string[] = [];
    let ready = false;
    const registry = () => new StageRegistry()
      .register(counting('data', () => done('data'), runs))
      .register(counting('refl', () => (ready ? done('tuned') : { status: 'waiting', reason: 'ReFL is not built yet' }), runs))
      .register(counting('eval', () => done(ready ? 'tuned generators' : 'stand-ins'), runs));
    await runStages(run, registry(), new AbortController().signal);
    expect(readManifest(run).stages.map((s) => [s.status, s.summary ?? s.reason])).toEqual([['done', 'data'], ['waiting', 'ReFL is not built yet'], ['done', 'stand-ins']]);
    await runStages(run, registry(), new AbortController().signal); // still waiting: eval kept
    expect(runs).toEqual(['data', 'refl', 'eval', 'refl']);
    ready = true;
    await runStages(run, registry(), new AbortController().signal);
    expect(runs).toEqual(['data', 'refl', 'eval', 'refl', 'refl', 'eval']);
    expect(readManifest(run).stages.map((s) => s.summary)).toEqual(['data', 'tuned', 'tuned generators']);
  });

  it('records a failure with its message, and a stop by the signal as stopped', async () => {
    const run = join(dir, 'fail');
    openRun(run, 'test', 0, {}, 'test');
    const registry = new StageRegistry().register({ name: 'x', title: 'x', run: async () => { throw new Error('Expected a disk but received none'); } });
    await expect(runStages(run, registry, new AbortController().signal)).rejects.toThrow('Expected a disk but received none');
    expect(readManifest(run).stages[0]).toMatchObject({ status: 'failed', reason: 'Expected a disk but received none' });
    const stop = new AbortController();
    const stopping = new StageRegistry().register({ name: 'x', title: 'x', run: async () => { stop.abort(); throw new Error('aborted'); } });
    const r = await runStages(run, stopping, stop.signal);
    expect(r.stopped).toBe(true);
    expect(readManifest(run).stages[0]).toMatchObject({ status: 'stopped', reason: 'stopped by the user (Ctrl-C); run the same command again to resume', sittings: 2 });
  });

  it('a running stage writes its sitting and its time so far, so that a killed sitting still counts', async () => {
    const run = join(dir, 'ticking');
    openRun(run, 'test', 0, {}, 'test');
    vi.useFakeTimers();
    try {
      let finish!: () => void;
      const registry = new StageRegistry().register({ name: 'long', title: 'long', run: () => new Promise<StageOutcome>((r) => (finish = () => r(done('L')))) });
      const running = runStages(run, registry, new AbortController().signal);
      await vi.advanceTimersByTimeAsync(65_000);
      // what a kill now would leave: the sitting and two writes of its time
      expect(readManifest(run).stages[0]).toMatchObject({ status: 'running', sittings: 1, seconds: 60 });
      finish();
      await running;
      expect(readManifest(run).stages[0]).toMatchObject({ status: 'done', sittings: 1, seconds: 65 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses to resume a run made with other settings', () => {
    const run = join(dir, 'settings');
    openRun(run, 'quick', 0, { pairs: 360 }, 'test');
    expect(() => openRun(run, 'quick', 0, { pairs: 360 }, 'test')).not.toThrow();
    expect(() => openRun(run, 'quick', 1, { pairs: 360 }, 'test')).toThrow(`Expected ${run} to hold a run with the same settings (mode quick, seed 1) to resume but it holds one with mode quick, seed 0; choose another --out or remove it`);
    expect(() => openRun(run, 'quick', 0, { pairs: 720 }, 'test')).toThrow('and other sizes');
  });
});
