// pretrain-blip.test.ts: `treereward pretrain blip` at the tiny config: a few steps on a small fixed
// set of scenes make the loss fall; a run stopped after a checkpoint resumes to the same losses as an
// uninterrupted one; blip.json has its fields; the weights load back; shipping records hashes that
// loading checks.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { blipSimilarities } from '../../src/assets/blip-eval.js';
import { loadWorldBlip } from '../../src/assets/load-assets.js';
import { pretrainBlip } from '../../src/assets/pretrain-blip.js';
import { heldOutSet } from '../../src/assets/scene-data.js';
import { shipAsset } from '../../src/assets/ship.js';
import { TreeRewardError } from '../../src/native/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-pretrain-blip-'));
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

/** Step -> loss from a run's train-log.jsonl (later lines win, as after a resume). */
function logLosses(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of readFileSync(join(out, 'train-log.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const j = JSON.parse(line) as { step: number; loss?: number };
    if (j.loss !== undefined) m.set(j.step, j.loss);
  }
  return m;
}

const ARGS = ['--config', 'tiny', '--steps', '8', '--batch', '8', '--scenes', '8', '--lr', '1e-3', '--held-out', '16', '--checkpoint-every', '4'];

describe('treereward pretrain blip', () => {
  const full = join(dir, 'full');

  it('runs a few steps, the loss falls, and blip.json has its fields', async () => {
    const r = await cli('pretrain', 'blip', '--out', full, ...ARGS, '--half', '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      format: 'treereward-world-blip/1', configName: 'tiny', steps: 8, batch: 8, scenes: 8, lr: 1e-3, seed: 0, stopped: false,
      files: ['blip.safetensors', 'blip.f16.safetensors'], embedDim: 64, tokenizer: { kind: 'word', maxLength: 48 },
    });
    expect(report.command).toBe(`treereward pretrain blip --out ${full} --config tiny --steps 8 --batch 8 --scenes 8 --seed 0 --lr 0.001 --checkpoint-every 4 --held-out 16 --half`);
    expect(report.tokenizer.vocab).toContain('crosshatched');
    expect(report.metrics.retrieval).toMatchObject({ n: 16, chance: 1 / 16 });
    expect(Object.keys(report.metrics.matching.accuracy)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    for (const k of ['trainingSeconds', 'msPerStep', 'wallSeconds', 'parameters']) expect(report[k]).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(join(full, 'blip.json'), 'utf8'));
    expect(json.config.bert.width).toBe(64);
    expect(json.codeVersion).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
    for (const f of ['blip.safetensors', 'blip.f16.safetensors', 'checkpoint/weights.safetensors', 'train-log.jsonl']) expect(existsSync(join(full, f))).toBe(true);
    const losses = [...logLosses(full).values()];
    expect(losses).toHaveLength(8);
    expect(report.losses.first).toBe(losses[0]);
    expect((losses[6] + losses[7]) / 2).toBeLessThan(losses[0] - 0.2);
  });

  it('resumes from its last checkpoint to the losses of an uninterrupted run', async () => {
    const resumed = join(dir, 'resumed');
    const stop = new AbortController();
    const first = await pretrainBlip({ out: resumed, config: 'tiny', steps: 8, batch: 8, scenes: 8, lr: 1e-3, heldOut: 16, matchingN: 0, checkpointEvery: 4, signal: stop.signal, onStep: (i) => i.step === 5 && stop.abort() });
    expect(first).toMatchObject({ stopped: true, steps: 5, files: [] });
    expect(existsSync(join(resumed, 'blip.json'))).toBe(false);
    const second = await pretrainBlip({ out: resumed, config: 'tiny', steps: 8, batch: 8, scenes: 8, lr: 1e-3, heldOut: 16, matchingN: 0, checkpointEvery: 4 });
    expect(second).toMatchObject({ stopped: false, startStep: 4, steps: 8 });
    const want = logLosses(full), got = logLosses(resumed);
    for (let s = 1; s <= 8; s++) expect(got.get(s), `step ${s}`).toBe(want.get(s));
  });

  it('loads back the weights it wrote, and shipping records hashes that loading checks', () => {
    const loaded = loadWorldBlip(full);
    expect(loaded.verified).toBe(false);
    const set = heldOutSet(0, 4, 32);
    const sim = blipSimilarities(loaded.model, loaded.tokenizer, set);
    expect(sim).toHaveLength(16);
    loaded.model.dispose();

    const assets = join(dir, 'assets');
    const entry = shipAsset({ run: full, assets, name: 'world-blip', sizeNote: 'tiny, for the test' });
    expect(Object.keys(entry.files)).toEqual(['world-blip/blip.f16.safetensors', 'world-blip/blip.json']);
    expect(entry).toMatchObject({ seed: 0, steps: 8, size: 'tiny, for the test' });
    const manifest = JSON.parse(readFileSync(join(assets, 'manifest.json'), 'utf8'));
    expect(manifest.assets['world-blip'].files['world-blip/blip.f16.safetensors'].sha256).toMatch(/^[0-9a-f]{64}$/);
    const shipped = loadWorldBlip(join(assets, 'world-blip'));
    expect(shipped.verified).toBe(true);
    expect(shipped.weights).toMatch(/blip\.f16\.safetensors$/);
    const half = blipSimilarities(shipped.model, shipped.tokenizer, set);
    for (let i = 0; i < 16; i++) expect(Math.abs(half[i] - sim[i])).toBeLessThan(2e-2);
    shipped.model.dispose();

    const file = join(assets, 'world-blip', 'blip.f16.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => loadWorldBlip(join(assets, 'world-blip'))).toThrow(TreeRewardError);
    expect(() => loadWorldBlip(join(assets, 'world-blip'))).toThrow(/Expected .*blip\.f16\.safetensors to have SHA-256 [0-9a-f]{64} \(asset "world-blip"/);
  });

  it('names a bad argument', async () => {
    expect((await cli('pretrain', 'blip', '--out', join(dir, 'x'), '--config', 'huge')).error).toBe('Expected one of tiny, world, bench for --config but received "huge"');
    expect((await cli('pretrain', 'blip', '--out', join(dir, 'x'), '--steps', '0')).error).toBe('Expected a positive integer for --steps but received "0"');
    expect((await cli('pretrain', 'blip', '--out', join(dir, 'x'), '--lr', 'fast')).error).toBe('Expected a positive number for --lr but received "fast"');
  });
});
