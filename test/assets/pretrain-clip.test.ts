// pretrain-clip.test.ts: `treereward pretrain clip` at the tiny config: the contrastive loss falls on
// a small fixed set of scenes, a stopped run resumes to the losses of an uninterrupted one, clip.json
// has its fields (retrieval, the aesthetic head's Spearman), and the weights load back with the
// aesthetic head giving the scores it was fitted to give.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { aestheticSet, clipImageEmbeddings, predict } from '../../src/assets/aesthetic.js';
import { loadWorldClip } from '../../src/assets/load-assets.js';
import { pretrainClip } from '../../src/assets/pretrain-clip.js';
import { aestheticWidths } from '../../src/assets/world-clip.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-pretrain-clip-'));
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

function logLosses(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of readFileSync(join(out, 'train-log.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const j = JSON.parse(line) as { step: number; loss?: number };
    if (j.loss !== undefined) m.set(j.step, j.loss);
  }
  return m;
}

describe('treereward pretrain clip', () => {
  const full = join(dir, 'full');

  it('runs a few steps, the loss falls, and clip.json has its fields', async () => {
    const r = await cli('pretrain', 'clip', '--out', full, '--config', 'tiny', '--steps', '8', '--batch', '8', '--scenes', '8', '--lr', '1e-3',
      '--held-out', '32', '--checkpoint-every', '4', '--aesthetic-renders', '64', '--half', '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      format: 'treereward-world-clip/1', configName: 'tiny', steps: 8, batch: 8, scenes: 8, seed: 0, stopped: false,
      files: ['clip.safetensors', 'clip.f16.safetensors'], tokenizer: { kind: 'word', maxLength: 48 },
      aesthetic: { dims: [32, ...aestheticWidths(32), 1], act: 'none', renders: 64 },
    });
    expect(report.command).toBe(`treereward pretrain clip --out ${full} --config tiny --steps 8 --batch 8 --scenes 8 --seed 0 --lr 0.001 --checkpoint-every 4 --held-out 32 --aesthetic-renders 64 --half`);
    expect(report.metrics.retrieval).toMatchObject({ n: 32, chance: 1 / 32 });
    const a = report.metrics.aesthetic;
    expect(a.n).toBe(32);
    expect(a.spearman).toBeGreaterThanOrEqual(-1);
    expect(a.spearman).toBeLessThanOrEqual(1);
    expect(a.targetStd).toBeGreaterThan(0.02); // the renders vary in quality
    for (const f of ['clip.safetensors', 'clip.f16.safetensors', 'checkpoint/weights.safetensors', 'clip.json']) expect(existsSync(join(full, f))).toBe(true);
    const losses = [...logLosses(full).values()];
    expect(losses).toHaveLength(8);
    expect((losses[6] + losses[7]) / 2).toBeLessThan(losses[0] - 0.2);
  });

  it('resumes from its last checkpoint to the losses of an uninterrupted run', async () => {
    const resumed = join(dir, 'resumed');
    const options = { out: resumed, config: 'tiny' as const, steps: 8, batch: 8, scenes: 8, lr: 1e-3, heldOut: 32, aestheticRenders: 64, checkpointEvery: 4 };
    const stop = new AbortController();
    const first = await pretrainClip({ ...options, signal: stop.signal, onStep: (i) => i.step === 6 && stop.abort() });
    expect(first).toMatchObject({ stopped: true, steps: 6, files: [] });
    const second = await pretrainClip(options);
    expect(second).toMatchObject({ stopped: false, startStep: 4, steps: 8 });
    const want = logLosses(full), got = logLosses(resumed);
    for (let s = 1; s <= 8; s++) expect(got.get(s), `step ${s}`).toBe(want.get(s));
    expect(second.metrics.aesthetic!.spearman).toBe(JSON.parse(readFileSync(join(full, 'clip.json'), 'utf8')).metrics.aesthetic.spearman);
  });

  it('loads back: the aesthetic head scores renders as it did when fitted', () => {
    const { model, info, verified } = loadWorldClip(full);
    expect(verified).toBe(false);
    expect(model.clip.logitScale).toBeCloseTo(model.logitScale.item(), 6);
    const test = aestheticSet(0, 'aesthetic-held-out', 32, 32);
    const scores = predict(model, clipImageEmbeddings(model, test.map((e) => e.image)));
    const mse = scores.reduce((s, p, i) => s + (p - test[i].score) ** 2, 0) / scores.length;
    expect(mse).toBeCloseTo(info.metrics.aesthetic!.mse, 5);
    model.dispose();
  });
});
