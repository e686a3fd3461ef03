// cli-sample.test.ts: `treereward sample` through main() in this process: a PNG grid of n images
// from a saved model directory, the --json report, and its argument errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { buildDiffusionModel, saveDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { tinySpec } from './tiny-model.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; error: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await main(['node', 'treereward', ...args]);
    return { code: 0, stdout: lines.join('\n'), error: '' };
  } catch (err) {
    return { code: 1, stdout: lines.join('\n'), error: (err as Error).message };
  } finally {
    log.mockRestore();
  }
}

describe('treereward sample', () => {
  const modelDir = join(dir, 'model');
  const model = buildDiffusionModel(tinySpec(), 0);
  saveDiffusionModel(modelDir, model);
  model.dispose();

  it('writes a grid of n images and reports it as JSON', async () => {
    const out = join(dir, 'grid.png');
    const r = await cli('sample', '--model', modelDir, '--prompt', 'a red star', '--n', '5', '--steps', '2', '--seed', '7', '--scheduler', 'euler', '--out', out, '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, out, prompt: 'a red star', seeds: [7, 8, 9, 10, 11], steps: 2, scheduler: 'euler', size: 16, guidanceScale: 3, grid: { width: 48, height: 32, columns: 3 } });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 48, 32, 3]);
  });

  it('names a bad argument', async () => {
    const out = join(dir, 'bad.png');
    expect((await cli('sample', '--model', modelDir, '--prompt', 'x', '--n', 'two', '--out', out)).error).toBe('Expected a positive integer for --n but received "two"');
    expect((await cli('sample', '--model', modelDir, '--prompt', 'x', '--scheduler', 'plms', '--out', out)).error).toBe('Expected one of ddpm, ddim, euler, dpm-solver++ for --scheduler but received "plms"');
    expect((await cli('sample', '--model', modelDir, '--prompt', 'x', '--size', '18', '--out', out)).error).toBe("Expected a positive multiple of 4 (the VAE's and the UNet's downsampling) for options.size but received 18");
    expect((await cli('sample', '--model', join(dir, 'none'), '--prompt', 'x', '--out', out)).error).toMatch(/^Expected a model directory with model_index.json for dir but received/);
  });
});
