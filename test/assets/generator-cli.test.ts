// generator-cli.test.ts: `treereward pretrain generator` and `treereward finetune generator` at the
// tiny config (16 px) for a few steps on a small fixed set of scenes: each stage's loss falls, the
// result is a model directory the pipeline loads (float32 and float16), grids and reports are
// written; a run stopped mid-stage resumes through the command to the losses of an uninterrupted
// run; a rerun with other settings is refused; the fine-tune reports its change against the base.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { recordAsset, readManifest } from '../../src/assets/asset-files.js';
import { pretrainGenerator } from '../../src/assets/pretrain-generator.js';
import { loadShippedGenerator } from '../../src/assets/ship-generator.js';
import { loadPipeline } from '../../src/diffusion/pipeline/model-dir.js';
import { latestTrainingCheckpoint, readCheckpointState } from '../../src/diffusion/train/train-checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-generator-'));
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

/** Stage -> step -> loss from a run's train-log.jsonl (later lines win, as after a resume). */
function logLosses(out: string, stage: string): number[] {
  const m = new Map<number, number>();
  for (const line of readFileSync(join(out, 'train-log.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const j = JSON.parse(line) as { stage: string; step: number; loss: number };
    if (j.stage === stage) m.set(j.step, j.loss);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const SETTINGS = { config: 'tiny', vaeSteps: 10, unetSteps: 10, batch: 8, scenes: 16, vaeLr: 3e-3, unetLr: 2e-3, seed: 0 };
const ARGS = ['--config', 'tiny', '--vae-steps', '10', '--unet-steps', '10', '--batch', '8', '--scenes', '16', '--vae-lr', '0.003', '--unet-lr', '0.002',
  '--checkpoint-every', '4', '--acceptance-prompts', '1', '--held-out', '2', '--acceptance-steps', '2'];

describe('treereward pretrain generator', () => {
  const full = join(dir, 'full');

  it('trains the VAE then the UNet (losses fall) into a model directory the pipeline loads, with grids and reports', async () => {
    const r = await cli('pretrain', 'generator', '--out', full, ...ARGS, '--sample-every', '5', '--half', '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ format: 'treereward-world-generator/1', configName: 'tiny', seed: 0, batch: 8, vaeBatch: 8, scenes: 16, resumedFrom: { vae: 0, unet: 0 } });
    expect(report.command).toBe(`treereward pretrain generator --out ${full} --config tiny --vae-steps 10 --vae-batch 8 --unet-steps 10 --scenes 16 --vae-lr 0.003 --unet-lr 0.002 --batch 8 --seed 0 --half`);
    expect(report.heldOutCombos).toContain('red star');
    expect(report.vae).toMatchObject({ steps: 10, lr: 0.003, klWeight: 1e-6 });
    expect(report.vae.scalingFactor).toBeGreaterThan(0);
    expect(report.unet).toMatchObject({ steps: 10, lr: 0.002, captionDropRate: 0.1 });
    for (const k of ['unet', 'vae', 'textEncoder']) expect(report.parameters[k]).toBeGreaterThan(0);
    expect(report.trainingSeconds).toBeGreaterThan(0);
    expect(report.acceptance.dimensions).toHaveLength(6);
    expect(report.acceptance.content.n).toBe(2);

    // each stage's loss falls
    const vae = logLosses(full, 'vae'), unet = logLosses(full, 'unet');
    expect(vae).toHaveLength(10);
    expect(unet).toHaveLength(10);
    expect(mean(vae.slice(-3))).toBeLessThan(0.7 * mean(vae.slice(0, 3)));
    expect(mean(unet.slice(-3))).toBeLessThan(0.9 * mean(unet.slice(0, 3)));

    // files: the model directory (and its float16 copy), grids, reports
    expect(readdirSync(join(full, 'samples')).sort()).toEqual(['unet-step-000005.png', 'unet-step-000010.png', 'vae-step-000005.png', 'vae-step-000010.png']);
    for (const f of ['model_index.json', 'unet.safetensors', 'vae.safetensors', 'text_encoder.safetensors', 'generator.json', 'acceptance.json', 'acceptance.png', 'vae.json', 'half/unet.safetensors']) {
      expect(existsSync(join(full, f)), f).toBe(true);
    }
    for (const model of [full, join(full, 'half')]) {
      const pipe = loadPipeline(model);
      const images = await pipe.generate(['a red circle', 'a blue star'], [1, 2], { steps: 2 });
      expect(images.map((i) => [i.width, i.height])).toEqual([[16, 16], [16, 16]]);
      for (const m of Object.values(pipe.models)) (m as { dispose?: () => void }).dispose?.();
    }
    expect(JSON.parse(readFileSync(join(full, 'generator.json'), 'utf8')).unet.steps).toBe(10);
  });

  it('resumes through the command from the last checkpoint to the losses of the uninterrupted run', async () => {
    const resumed = join(dir, 'resumed');
    const stop = new AbortController();
    const err = await pretrainGenerator({ out: resumed, ...SETTINGS, checkpointEvery: 4, acceptance: null, signal: stop.signal, onStep: (s) => s.stage === 'unet' && s.step === 6 && stop.abort() })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^Expected training to run to the end but it was aborted after step 6 of 10 \(options.signal\); resume from .*step-00000006$/);
    expect(existsSync(join(resumed, 'model_index.json'))).toBe(false);
    const r = await cli('pretrain', 'generator', '--out', resumed, ...ARGS, '--no-acceptance', '--sample-every', '0', '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.resumedFrom).toEqual({ vae: 10, unet: 6 });
    expect(report.acceptance).toBe(null);
    const fullState = readCheckpointState(latestTrainingCheckpoint(join(dir, 'full', 'checkpoints', 'unet'))!);
    const resumedState = readCheckpointState(latestTrainingCheckpoint(join(resumed, 'checkpoints', 'unet'))!);
    expect(resumedState.losses).toEqual(fullState.losses);
    expect(logLosses(resumed, 'vae')).toEqual(logLosses(join(dir, 'full'), 'vae'));
    expect(readFileSync(join(resumed, 'unet.safetensors')).equals(readFileSync(join(dir, 'full', 'unet.safetensors')))).toBe(true);

    // other settings into the same folder are refused
    const other = await cli('pretrain', 'generator', '--out', resumed, ...ARGS.map((a) => (a === '0.002' ? '0.001' : a)), '--no-acceptance');
    expect(other.error).toBe(`Expected the settings of the generator run in ${resumed} to resume it but unetLr differs (0.002 there, 0.001 now); use another --out for a new run`);
  });

  it('checks its options', async () => {
    expect((await cli('pretrain', 'generator', '--out', join(dir, 'x'), '--config', 'huge')).error)
      .toBe('Expected tiny, world, bench, a JSON object or a JSON file for --config but received "huge"');
    expect((await cli('pretrain', 'generator', '--out', join(dir, 'x'), '--vae-steps', '0')).error).toBe('Expected a positive integer for --vae-steps but received "0"');
    expect((await cli('pretrain', 'generator', '--out', join(dir, 'x'), '--acceptance-prompts', '101')).error)
      .toBe('Expected at most 100 (the benchmark\'s prompts per dimension) for --acceptance-prompts but received "101"');
    expect((await cli('finetune', 'generator', '--base', join(dir, 'none'), '--out', join(dir, 'y'))).error)
      .toBe(`Expected a model directory (model_index.json) for --base but received ${JSON.stringify(join(dir, 'none'))}`);
  });
});

describe('treereward finetune generator', () => {
  it("trains the base on the renderer's best renders (the loss falls) and reports the change per dimension", async () => {
    const out = join(dir, 'tuned');
    const r = await cli('finetune', 'generator', '--base', join(dir, 'full'), '--out', out, '--steps', '24', '--prompts', '8', '--candidates', '2', '--lr', '0.002',
      '--batch', '8', '--sample-every', '0', '--acceptance-prompts', '1', '--held-out', '2', '--acceptance-steps', '2', '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ format: 'treereward-world-generator-finetune/1', prompts: 8, candidates: 2, lr: 0.002, trainTextEncoder: false, resumedFrom: 0 });
    expect(report.command).toBe(`treereward finetune generator --base ${join(dir, 'full')} --out ${out} --steps 24 --prompts 8 --candidates 2 --lr 0.002 --batch 8 --seed 0`);
    expect(Object.keys(report.base.sha256)).toEqual(['model_index.json', 'text_encoder.safetensors', 'unet.safetensors', 'vae.safetensors']);
    expect(report.data.kept).toBeGreaterThanOrEqual(report.data.candidates);
    expect(report.acceptance.change.map((c: { dimension: string }) => c.dimension)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail', 'held-out content']);
    // the base's figures were measured with the same settings by the pretraining, so they are reused
    expect(report.acceptance.base).toEqual(JSON.parse(readFileSync(join(dir, 'full', 'acceptance.json'), 'utf8')));
    const losses = logLosses(out, 'finetune');
    expect(losses).toHaveLength(24);
    // (v-prediction's loss at random timesteps is noisy step to step: compare the first and last quarters)
    console.log(`finetune loss: first 6 ${mean(losses.slice(0, 6)).toFixed(4)}, last 6 ${mean(losses.slice(-6)).toFixed(4)}`);
    expect(mean(losses.slice(-6))).toBeLessThan(mean(losses.slice(0, 6)));
    expect(existsSync(join(out, 'samples', 'finetune-step-000024.png'))).toBe(true);
    loadPipeline(out);
  });
});

describe('treereward pretrain ship-generator', () => {
  it("copies the float16 model directory into assets/, keeps other assets' manifest entries, and loading checks the hashes", async () => {
    const assets = join(dir, 'assets');
    mkdirSync(join(assets, 'world-blip'), { recursive: true });
    writeFileSync(join(assets, 'world-blip', 'blip.json'), '{}');
    recordAsset(assets, 'world-blip', ['world-blip/blip.json'], { command: 'treereward pretrain blip', seed: 0, codeVersion: 'x', trainingSeconds: 1, machine: 'm' });
    const r = await cli('pretrain', 'ship-generator', '--run', join(dir, 'full'), '--name', 'world-generator', '--assets', assets, '--note', 'tiny, for the test', '--json');
    expect(r.error).toBe('');
    const entry = JSON.parse(r.stdout);
    expect(Object.keys(entry.files).sort()).toEqual(['acceptance.json', 'acceptance.png', 'generator.json', 'model_index.json', 'text_encoder.safetensors', 'unet.safetensors', 'vae.safetensors']
      .map((f) => `world-generator/${f}`));
    expect(entry).toMatchObject({ seed: 0, size: 'tiny, for the test', kind: 'diffusion model directory (float16)' });
    expect(entry.command).toMatch(/^treereward pretrain generator /);
    expect(Object.keys(entry.acceptance.ratios)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    expect(Object.keys(readManifest(assets).assets).sort()).toEqual(['world-blip', 'world-generator']);
    // float16 on disk: about half the float32 file
    expect(readFileSync(join(assets, 'world-generator', 'unet.safetensors')).length).toBeLessThan(0.6 * readFileSync(join(dir, 'full', 'unet.safetensors')).length);
    const shipped = loadShippedGenerator(join(assets, 'world-generator'));
    expect(shipped.verified).toBe(true);
    shipped.model.dispose();
    appendFileSync(join(assets, 'world-generator', 'vae.safetensors'), 'x');
    expect(() => loadShippedGenerator(join(assets, 'world-generator'))).toThrow(/^Expected .*vae\.safetensors to have SHA-256 [0-9a-f]{64} \(asset "world-generator" in .*manifest\.json\) but it has [0-9a-f]{64}$/);
  });
});

describe('treereward pretrain judge-robustness / heldout-pairs', () => {
  it("measure the judges through the run's VAE and store its judged samples as a recorded test-split asset", async () => {
    const report = join(dir, 'full', 'judge-robustness.json');
    const r = await cli('pretrain', 'judge-robustness', '--generator', join(dir, 'full'), '--pairs', '2', '--out', report, '--json');
    expect(r.error).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ format: 'treereward-judge-robustness/1', pairsPerDimension: 2, target: 0.9 });
    expect(j.dimensions.map((d: { dimension: string }) => d.dimension)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual(j);

    const assets = join(dir, 'heldout-assets');
    mkdirSync(assets, { recursive: true });
    const h = await cli('pretrain', 'heldout-pairs', '--generator', join(dir, 'full'), '--out', join(assets, 'world-heldout'), '--per-dimension', '1', '--steps', '2', '--record', '--json');
    expect(h.error).toBe('');
    expect(JSON.parse(h.stdout)).toMatchObject({ format: 'treereward-heldout-pairs/1', inserted: 6, perDimension: 1 });
    const entry = readManifest(assets).assets['world-heldout'];
    expect(entry.kind).toBe('feedback store (test split)');
    expect(Object.keys(entry.files)).toContain('world-heldout/feedback.sqlite');
    expect(Object.keys(entry.files)).toContain('world-heldout/heldout.json');
    expect(Object.keys(entry.files).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(2);

    const bad = await cli('pretrain', 'judge-robustness', '--generator', join(dir, 'nothing-here'));
    expect(bad.error).toMatch(/^Expected a model directory with model_index\.json/);
  }, 120_000);
});
