// status.test.ts: `treereward status RUN_DIR` reads where a run stands from its files: the stages from
// run.json, finished reward and ReFL runs by their result files, the one in progress by its last logged
// step (a decouple member's by its own step), a log line cut by a kill skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { demoConfig, openRun } from '../../src/eval/run/demo.js';
import { readManifest, writeManifest } from '../../src/eval/run/run-dir.js';
import { runStatus, statusLines } from '../../src/eval/run/run-status.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('treereward status', () => {
  it('counts finished reward and ReFL runs and shows the ones in progress', () => {
    const run = mkdtempSync(path.join(os.tmpdir(), 'status-'));
    dirs.push(run);
    const config = demoConfig('full'); // 4 variants x 3 seeds
    openRun(run, 'full', 0, config as unknown as Record<string, unknown>, 'treereward demo --full --out X');
    const m = readManifest(run);
    m.stages = [
      { name: 'data', title: 'feedback pairs', status: 'done', seconds: 853, sittings: 1, summary: '6000 pairs', outputs: {} },
      { name: 'rewards', title: 'reward models', status: 'running', seconds: 600, sittings: 2, outputs: {} },
      { name: 'refl', title: 'ReFL fine-tuning', status: 'pending', seconds: 0, sittings: 0, outputs: {} },
    ];
    writeManifest(run, m);
    const file = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(run, rel)), { recursive: true });
      writeFileSync(path.join(run, rel), text);
    };
    file('rewards/single-small/seed-0/accuracy.json', '{}');
    file('rewards/data-scale/seed-0/accuracy.json', '{}');
    file('rewards/decouple/seed-0/train-log.jsonl', '{"step":334,"loss":0.6,"member":"content"}\n{"step":12,"loss":0.7,"member":"style"}\n');
    file('rewards/tree/seed-0/train-log.jsonl', '{"step":40,"loss":0.7}\n{"step":41,"lo'); // cut by a kill
    const st = runStatus(run);
    expect(st.rewards).toEqual({
      done: 2, total: 12,
      inProgress: [{ run: 'decouple seed 0', step: 12, of: null, member: 'style' }, { run: 'tree seed 0', step: 40, of: 2000 }],
    });
    expect(st.refl).toEqual({ done: 0, total: 12, inProgress: [] });
    const lines = statusLines(st);
    expect(lines[0]).toContain('resume with: treereward demo --full --out X');
    expect(lines).toContain('  reward models: running (10.0 min over 2 sittings)');
    expect(lines).toContain("  reward runs: 2 of 12 finished; in progress: decouple seed 0 at its style model's step 12, tree seed 0 at step 40 of 2000");
    // the CLI prints the same as JSON
    const bin = path.resolve(__dirname, '../../bin/treereward.js');
    const json = JSON.parse(execFileSync(process.execPath, [bin, 'status', run, '--json']).toString());
    expect(json.rewards.done).toBe(2);
    expect(json.stages.map((s: { status: string }) => s.status)).toEqual(['done', 'running', 'pending']);
  });

  it('a directory without run.json is a clear error', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'status-empty-'));
    dirs.push(empty);
    expect(() => runStatus(empty)).toThrow(/Expected a run directory with run.json for RUN_DIR/);
  });
});
