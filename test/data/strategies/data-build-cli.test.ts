// `treereward data build --world` through main(): builds, stores, resumes, and checks its options.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { FeedbackStore } from '../../../src/data/store/index.js';
import { buildDiffusionModel, saveDiffusionModel } from '../../../src/diffusion/pipeline/model-dir.js';
import { tinySpec } from '../../diffusion/tiny-model.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function cli(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await main(['node', 'treereward', ...args]);
    return lines.join('\n');
  } finally {
    log.mockRestore();
  }
}

describe('treereward data build --world', () => {
  it('stores the pairs, and a rerun with more pairs adds only the new ones', async () => {
    const out = mkdtempSync(join(tmpdir(), 'data-build-'));
    dirs.push(out);
    const first = JSON.parse(await cli('data', 'build', '--world', '--pairs', '12', '--out', out, '--seed', '4', '--json'));
    expect(first).toMatchObject({ ok: true, pairs: 12, inserted: 12, alreadyStored: 0 });
    const second = JSON.parse(await cli('data', 'build', '--world', '--pairs', '18', '--out', out, '--seed', '4', '--json'));
    expect(second).toMatchObject({ inserted: 6, alreadyStored: 12 });
    const store = FeedbackStore.open(out);
    expect(store.countPairs()).toBe(18);
    expect(store.dimensions().sort()).toEqual(['color', 'content', 'detail', 'layout', 'lighting', 'style']);
    store.close();
  });

  it('--samples-from makes a share of the pairs from a diffusion model directory\'s own samples', async () => {
    const out = mkdtempSync(join(tmpdir(), 'data-build-samples-'));
    const modelDir = mkdtempSync(join(tmpdir(), 'data-build-model-'));
    dirs.push(out, modelDir);
    const model = buildDiffusionModel(tinySpec(), 0);
    saveDiffusionModel(modelDir, model);
    model.dispose();
    const report = JSON.parse(await cli('data', 'build', '--world', '--pairs', '12', '--size', '16', '--out', out, '--seed', '1', '--samples-from', modelDir, '--samples-share', '0.5', '--json'));
    expect(report).toMatchObject({ ok: true, inserted: 12, samplesFrom: modelDir, samplesShare: 0.5 });
    const store = FeedbackStore.open(out);
    expect(store.countPairs({ strategy: 'model-samples' })).toBe(6);
    store.close();
    await expect(cli('data', 'build', '--world', '--pairs', '6', '--out', out, '--samples-from', join(modelDir, 'nope'))).rejects.toThrow('Expected a diffusion model directory or world[:quality=Q] for --samples-from');
    await expect(cli('data', 'build', '--world', '--pairs', '6', '--out', out, '--samples-from', modelDir, '--samples-share', '-1')).rejects.toThrow('Expected a number in [0, 1] for --samples-share but received "-1"');
  });

  it('checks its options', async () => {
    await expect(cli('data', 'build', '--pairs', '6', '--out', '/tmp/x')).rejects.toThrow('Expected --world (the synthetic world is the only dataset source) for data build but received no source');
    await expect(cli('data', 'build', '--world', '--pairs', '0', '--out', '/tmp/x')).rejects.toThrow('Expected a positive integer for --pairs but received "0"');
    await expect(cli('data', 'build', '--world', '--pairs', '6', '--out', '/tmp/x', '--flip-rate', '2')).rejects.toThrow('Expected a number in [0, 1] for --flip-rate but received "2"');
  });

  // src/cli/stop-signals.ts: SIGTERM (what `kill` sends; a job started in the background by a script may
  // have SIGINT ignored) stops it after the current chunk, and the same command resumes.
  it('SIGTERM stops it after the current chunk (exit 1, the reason on stderr) and the same command resumes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'data-build-term-'));
    dirs.push(out);
    const bin = resolve(__dirname, '../../../bin/treereward.js');
    const args = ['data', 'build', '--world', '--pairs', '1500', '--out', out, '--seed', '9', '--json'];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const stored = () => { // read-only, beside the writer
      if (!existsSync(join(out, 'feedback.sqlite'))) return 0;
      const db = new Database(join(out, 'feedback.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT COUNT(*) FROM pairs').pluck().get() as number;
      } catch {
        return 0; // not created yet
      } finally {
        db.close();
      }
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 600 && stored() < 60; i++) await sleep(50);
    expect(child.exitCode, stderr).toBe(null);
    child.kill('SIGTERM');
    // a build that did not reach its count fails (exit 1) with the reason; what it stored stays stored
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/it was aborted/);
    expect(stdout).toBe('');
    const kept = stored();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(1500);
    const second = JSON.parse(await cli(...args));
    expect(second).toMatchObject({ inserted: 1500 - kept, alreadyStored: kept });
  }, 120_000);
});
