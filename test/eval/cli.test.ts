// cli.test.ts: `treereward eval` and `treereward report` through main() in this process: the world
// renderer at two qualities evaluated against each other (tables as text and JSON), a prompt file
// with bad lines, option errors, and --out kept as a run directory that `report` draws.
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { DIMENSIONS } from '../../src/api/interfaces.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ stdout: string; error: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await main(['node', 'treereward', ...args]);
    return { stdout: lines.join('\n'), error: '' };
  } catch (err) {
    return { stdout: lines.join('\n'), error: (err as Error).message };
  } finally {
    log.mockRestore();
  }
}

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

describe('treereward eval', () => {
  it('evaluates a generator against a base: judges, improvement, win / tie / loss (JSON)', async () => {
    const r = await cli('eval', '--model', 'world:quality=0.9', '--base', 'world:quality=0.3', '--n-per-dim', '2', '--seeds', '2', '--json');
    expect(r.error).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, out: null, seeds: [0, 1], prompts: { count: 12 } });
    expect(out.tables.groups.map((g: { label: string }) => g.label)).toEqual(['world@q0.9', 'world@q0.3']);
    // CLIP and aesthetic scores come from the shipped world CLIP; without it the output says why they are missing.
    if (existsSync(join(repoRoot, 'assets', 'world-clip', 'clip.json'))) expect(out.missing?.clip).toBeUndefined();
    else expect(out.missing.clip).toMatch(/world CLIP/);
    const imp = out.tables.improvements[0];
    expect(imp.tuned).toBe('model');
    expect(imp.mean.mean).toBeGreaterThan(0);
    for (const d of DIMENSIONS) expect(Math.abs(imp.perDimension[d].mean)).toBeLessThanOrEqual(5);
    const wtl = out.tables.comparisons[0];
    expect(wtl.byPrompt.n).toBe(12);
    expect(wtl.byPrompt.win).toBeGreaterThan(wtl.byPrompt.loss);
  });

  it('prints the tables as text, reads a prompt file, and keeps --out as a run directory for the report', async () => {
    const prompts = join(dir, 'prompts.jsonl');
    writeFileSync(prompts, '{"prompt": "a red star and a blue ring, striped style", "dimension": "style"}\n{"prompt": "a green square, warm palette"}\n');
    const out = join(dir, 'run');
    const r = await cli('eval', '--model', 'world:quality=0.8', '--base', 'world:quality=0.4', '--prompts', prompts, '--out', out);
    expect(r.error).toBe('');
    expect(r.stdout).toContain('2 prompts (the prompt file');
    expect(r.stdout).toContain('improvement over the base on [-5, 5] (Table 3)');
    expect(r.stdout).toContain('win / tie / loss, world@q0.8 vs world@q0.4');
    expect(r.stdout).toContain(`kept in ${out}`);
    const rep = await cli('report', out, '--json');
    expect(rep.error).toBe('');
    const report = JSON.parse(rep.stdout);
    expect(existsSync(report.html)).toBe(true);
    const shown = Object.fromEntries(report.sections.map((s: { id: string; shown: boolean }) => [s.id, s.shown]));
    expect(shown).toEqual({ summary: true, radar: true, improvement: true, 'win-tie-loss': true, metrics: true, rewards: false, curves: false, grids: true });
    expect(report.figures.some((f: string) => f.endsWith('fig1-radar.png'))).toBe(true);
  });

  it('names bad prompt-file lines and bad options', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"prompt": "a red star"}\n{"prompt": "a red star", "dimension": "shape"}\n');
    expect((await cli('eval', '--model', 'world', '--prompts', bad)).error).toBe(`${bad} line 2: Expected one of content, style, color, lighting, layout, detail (or no dimension) for dimension but received "shape"`);
    expect((await cli('eval', '--model', 'world', '--prompts', bad, '--n-per-dim', '3')).error).toBe('Expected either --prompts or --n-per-dim (which counts benchmark prompts) but received both');
    expect((await cli('eval', '--model', 'world:quality=1.5')).error).toBe('Expected a number in [0, 1] for quality in "world:quality=1.5" but received "1.5"');
    expect((await cli('eval', '--model', 'world', '--seeds', '0')).error).toBe('Expected a positive integer for --seeds but received "0"');
    expect((await cli('report', join(dir, 'nowhere'))).error).toBe(`Expected a run directory with run.json for RUN_DIR but received ${JSON.stringify(join(dir, 'nowhere'))} (no run.json in it)`);
    expect((await cli('report', join(dir, 'run'), '--ab', 'store-without-set')).error).toBe('Expected STORE_DIR#SET_NAME for --ab but received "store-without-set"');
  });
});
