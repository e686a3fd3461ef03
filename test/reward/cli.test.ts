// cli.test.ts: `treereward reward train | eval | score` on a small world store (tiny backbone).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = (...args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin', 'treereward.js'), ...args], { cwd: root }).toString();

function firstPng(dir: string): string {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const f = firstPng(p);
      if (f) return f;
    } else if (e.name.endsWith('.png')) return p;
  }
  return '';
}

describe('treereward reward', () => {
  it('trains a tree on a world store, evaluates it and scores an image, with --json', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'reward-cli-'));
    const store = path.join(tmp, 'store'), out = path.join(tmp, 'tree');
    cli('data', 'build', '--world', '--pairs', '60', '--out', store, '--json');
    const trained = JSON.parse(cli('reward', 'train', '--store', store, '--out', out, '--backbone', 'tiny', '--steps', '4', '--batch', '8', '--json'));
    expect(trained).toMatchObject({ variant: 'tree', steps: 4 });
    const ev = JSON.parse(cli('reward', 'eval', '--store', store, '--model', out, '--split', 'train', '--json'));
    expect(ev.models[0].name).toBe('tree');
    expect(ev.models[0].mean).toBeGreaterThanOrEqual(0);
    expect(ev.models[0].routing).toBeGreaterThanOrEqual(0);
    const sc = JSON.parse(cli('reward', 'score', firstPng(path.join(store, 'images')), '--model', out, '--prompt', 'a red star', '--json'));
    expect(Object.keys(sc.leaves)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    expect(sc.branches.semantic + sc.branches.aesthetic).toBeCloseTo(1, 5);
    const text = cli('reward', 'score', firstPng(path.join(store, 'images')), '--model', out, '--prompt', 'a red star');
    expect(text).toMatch(/^R = -?\d/);
    // --precision bf16-mixed trains and records it; a precision it does not know is refused by name
    const mixed = JSON.parse(cli('reward', 'train', '--store', store, '--out', path.join(tmp, 'mixed'), '--backbone', 'tiny', '--steps', '2', '--batch', '8', '--precision', 'bf16-mixed', '--json'));
    expect(mixed).toMatchObject({ variant: 'tree', precision: 'bf16-mixed', steps: 2 });
    expect(() => execFileSync(process.execPath, [path.join(root, 'bin', 'treereward.js'), 'reward', 'train', '--store', store, '--out', path.join(tmp, 'bad'), '--precision', 'fp8'], { cwd: root, stdio: 'pipe' }))
      .toThrow(/Expected one of float32, bf16-mixed for --precision but received fp8/);
    rmSync(tmp, { recursive: true, force: true });
  });
});
