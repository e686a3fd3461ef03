// training.test.ts: the diffusion loss (eq. 1) and the VAE loss against their closed forms, the data
// order, and the training loop on the native tiny UNet and VAE: it learns, resumes exactly after a
// kill, stops on a loss that is not finite keeping the last good checkpoint, and on an abort.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { Rng, TreeRewardError, readSafetensors, tensor, type RgbImage, type Tensor } from '../../src/index.js';
import { buildDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { createScheduler } from '../../src/diffusion/schedulers/index.js';
import { IdentityVae } from '../../src/diffusion/tiny/identity-vae.js';
import {
  DataOrder, diffusionLoss, imageTextDataset, latestTrainingCheckpoint, listTrainingCheckpoints, readCheckpointState, trainDiffusion, trainVae,
  laplacian, uniformTimesteps, vaeLoss, type ImageTextDataset,
} from '../../src/diffusion/train/index.js';
import type { NoisePredictor } from '../../src/diffusion/types.js';
import { tinySpec } from './tiny-model.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'treereward-train-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COLORS: [string, number[]][] = [['red', [220, 30, 30]], ['green', [30, 200, 60]], ['blue', [40, 60, 220]], ['yellow', [230, 220, 40]]];

/** Squares of four colors at four places on grey, 16x16, captioned "a <color> square at <place>". */
function squares(): { images: RgbImage[]; prompts: string[] } {
  const images: RgbImage[] = [], prompts: string[] = [];
  const places: [string, number, number][] = [['top left', 1, 1], ['top right', 9, 1], ['bottom left', 1, 9], ['bottom right', 9, 9]];
  for (const [name, rgb] of COLORS) {
    for (const [place, x0, y0] of places) {
      const data = new Uint8Array(16 * 16 * 3).fill(128);
      for (let y = y0; y < y0 + 6; y++) for (let x = x0; x < x0 + 6; x++) data.set(rgb, (y * 16 + x) * 3);
      images.push({ width: 16, height: 16, data });
      prompts.push(`a ${name} square at ${place}`);
    }
  }
  return { images, prompts };
}
const data = squares();
const dataset = imageTextDataset(data.images, data.prompts);

describe('the losses', () => {
  it("eq. 1: with a predictor of zeros the loss is mean(eps^2), eps drawn after z0's sample and t", () => {
    const zero: NoisePredictor = { parameters: () => new Map(), forward: (x: Tensor) => x.mul(0) };
    const m = buildDiffusionModel(tinySpec(), 0);
    const models = { ...m.models, unet: zero, vae: new IdentityVae() };
    const batch = dataset.batch([0, 5]);
    const loss = diffusionLoss(models, createScheduler({ kind: 'ddpm' }), batch, new Rng(4), { captionDropRate: 0, trainTextEncoder: false }).item();
    const r = new Rng(4);
    r.randn([2, 3, 16, 16]); // z0's posterior sample
    const t = uniformTimesteps(r, 2, 1000);
    expect(t.every((v) => Number.isInteger(v) && v >= 0 && v < 1000)).toBe(true);
    const eps = Array.from(r.randn([2, 3, 16, 16]).toArray());
    expect(loss).toBeCloseTo(eps.reduce((a, v) => a + v * v, 0) / eps.length, 5);
    // x0 prediction: the target is z0 (the pixels, through the identity VAE)
    const x0loss = diffusionLoss(models, createScheduler({ kind: 'ddpm', predictionType: 'sample' }), batch, new Rng(4), { captionDropRate: 0, trainTextEncoder: false }).item();
    const px = Array.from(batch.pixels.toArray());
    expect(x0loss).toBeCloseTo(px.reduce((a, v) => a + v * v, 0) / px.length, 4);
    m.dispose();
  });

  it('the VAE loss is reconstruction + beta KL, per-element means', () => {
    const vae = new IdentityVae();
    const batch = dataset.batch([1]);
    const { loss, reconstruction, kl } = vaeLoss(vae, batch.pixels, new Rng(0), 0.5);
    expect(reconstruction.item()).toBeLessThan(1e-10); // logvar -30: z = x
    // KL of N(x, e^-30) to N(0, 1) per element: (x^2 + e^-30 - 1 + 30) / 2
    const px = Array.from(batch.pixels.toArray());
    expect(kl.item()).toBeCloseTo(px.reduce((a, v) => a + (v * v + Math.exp(-30) - 1 + 30) / 2, 0) / px.length, 4);
    expect(loss.item()).toBeCloseTo(reconstruction.item() + 0.5 * kl.item(), 5);
  });

  it('the high-frequency term is an L1 on each channel\'s Laplacian, zero for a perfect reconstruction', () => {
    // laplacian against the 5-point stencil by hand (zero padding), on a 2-channel 4x5 image
    const vals = Array.from({ length: 2 * 4 * 5 }, (_, i) => Math.sin(i * 1.7) * 3);
    const x = tensor(vals, [1, 2, 4, 5]);
    const lap = laplacian(x).toArray();
    const at = (c: number, y: number, z: number) => (y < 0 || y >= 4 || z < 0 || z >= 5 ? 0 : vals[c * 20 + y * 5 + z]);
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 4; y++)
        for (let z = 0; z < 5; z++)
          expect(lap[c * 20 + y * 5 + z]).toBeCloseTo(at(c, y - 1, z) + at(c, y + 1, z) + at(c, y, z - 1) + at(c, y, z + 1) - 4 * at(c, y, z), 4);
    // the identity VAE reconstructs exactly: the term is 0 and the loss is unchanged by gamma
    const vae = new IdentityVae();
    const batch = dataset.batch([2]);
    const plain = vaeLoss(vae, batch.pixels, new Rng(0), 0.5);
    const hf = vaeLoss(vae, batch.pixels, new Rng(0), 0.5, 3);
    expect(plain.highFrequency).toBeUndefined();
    expect(hf.highFrequency!.item()).toBeLessThan(1e-5);
    expect(hf.loss.item()).toBeCloseTo(plain.loss.item(), 4);
    // a reconstruction at half the contrast costs gamma * mean |lap(x / 2) - lap(x)| = gamma / 2 * mean |lap(x)|
    class HalfVae extends IdentityVae {
      override decode(latents: Tensor): Tensor {
        return latents.mul(0.5);
      }
    }
    const half = vaeLoss(new HalfVae(), batch.pixels, new Rng(0), 0.5, 3);
    const lapX = Array.from(laplacian(batch.pixels).toArray());
    const expectedHf = lapX.reduce((a, v) => a + Math.abs(v) / 2, 0) / lapX.length;
    expect(half.highFrequency!.item()).toBeCloseTo(expectedHf, 4);
    expect(half.loss.item()).toBeCloseTo(half.reconstruction.item() + 0.5 * half.kl.item() + 3 * expectedHf, 4);
  });
});

describe('DataOrder', () => {
  it('shuffles each epoch by seed, runs on into the next epoch, and resumes from a position', () => {
    const a = new DataOrder(5, 3);
    const first = [...a.next(3), ...a.next(3), ...a.next(4)];
    expect([...first.slice(0, 5)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...first.slice(5, 10)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(first.slice(0, 5)).toEqual(a.epochOrder(0));
    expect(first.slice(5, 10)).not.toEqual(first.slice(0, 5));
    const b = new DataOrder(5, 3);
    b.next(3);
    const pos = b.position;
    const c = new DataOrder(5, 3);
    c.position = pos;
    expect([...c.next(3), ...c.next(4)]).toEqual(first.slice(3, 10));
    expect(new DataOrder(5, 4).epochOrder(0)).not.toEqual(a.epochOrder(0));
  });
});

async function diffusionRun(dir: string, extra: Partial<Parameters<typeof trainDiffusion>[2]> = {}) {
  const model = buildDiffusionModel(tinySpec(), 11);
  try {
    return await trainDiffusion(model.models, dataset, {
      scheduler: { kind: 'ddpm' }, steps: 6, batchSize: 2, gradientAccumulation: 2, learningRate: 2e-3, warmupSteps: 2,
      captionDropRate: 0.3, trainTextEncoder: true, textEncoderLearningRate: 1e-3, seed: 5, checkpointDir: dir, ...extra,
    });
  } finally {
    model.dispose();
  }
}

describe('training loop', () => {
  it('the UNet learns: the diffusion loss falls on a fixed set of squares', async () => {
    const model = buildDiffusionModel(tinySpec(), 3);
    const losses: number[] = [];
    await trainDiffusion(model.models, dataset, {
      scheduler: { kind: 'ddpm' }, steps: 40, batchSize: 4, learningRate: 2e-3, warmupSteps: 4, seed: 1, onProgress: (p) => losses.push(p.loss),
    });
    model.dispose();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(losses.length).toBe(40);
    expect(mean(losses.slice(-10))).toBeLessThan(0.8 * mean(losses.slice(0, 10)));
  });

  it('the VAE learns: the reconstruction error falls', async () => {
    const model = buildDiffusionModel(tinySpec(), 3);
    const rec: number[] = [];
    await trainVae(model.models.vae, dataset, { steps: 20, batchSize: 4, learningRate: 3e-3, klWeight: 1e-4, seed: 2, onProgress: (p) => rec.push(p.parts.reconstruction) });
    model.dispose();
    expect(rec[rec.length - 1]).toBeLessThan(0.5 * rec[0]);
  });

  it('resumes exactly: killed (aborted) at step 3, every object dropped, resumed: the same losses as 6 straight steps', async () => {
    const straight = await diffusionRun(tmp());
    expect(straight.losses.length).toBe(6);
    const dir = tmp();
    const stop = new AbortController();
    const killed = await diffusionRun(dir, { checkpointEvery: 3, signal: stop.signal, onProgress: (p) => p.step === 3 && stop.abort() }).catch((e: unknown) => e);
    expect(killed).toBeInstanceOf(TreeRewardError);
    expect((killed as Error).message).toBe(`Expected training to run to the end but it was aborted after step 3 of 6 (options.signal); resume from ${join(dir, 'step-00000003')}`);
    expect(listTrainingCheckpoints(dir)).toEqual([join(dir, 'step-00000003')]);
    const resumed = await diffusionRun(dir, { checkpointEvery: 3, resume: true });
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.losses).toEqual(straight.losses);
    expect(readCheckpointState(resumed.lastCheckpoint!).losses).toEqual(straight.losses);
  });

  it('resumes exactly after a crash between checkpoints (the steps after the last one are redone)', async () => {
    const straight = await vaeRun(tmp());
    const dir = tmp();
    const crashed = await vaeRun(dir, { checkpointEvery: 2, onProgress: (p) => { if (p.step === 5) throw new Error('power cut'); } }).catch((e: unknown) => e);
    expect((crashed as Error).message).toBe('power cut');
    expect(latestTrainingCheckpoint(dir)).toBe(join(dir, 'step-00000004'));
    const resumed = await vaeRun(dir, { checkpointEvery: 2, resume: true });
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.losses).toEqual(straight.losses);
    // a finished run resumed does nothing more
    const again = await vaeRun(dir, { checkpointEvery: 2, resume: true });
    expect(again.losses).toEqual(straight.losses);
  });

  it('a loss that becomes NaN stops the run with a clear error; the last good checkpoint stays', async () => {
    const dir = tmp();
    let calls = 0;
    const poisoned: ImageTextDataset = {
      length: dataset.length,
      batch: (indices) => {
        const b = dataset.batch(indices);
        if (++calls < 5) return b;
        const bad = b.pixels.div(0);
        b.pixels.dispose();
        return { pixels: bad, prompts: b.prompts };
      },
    };
    const model = buildDiffusionModel(tinySpec(), 3);
    const err = await trainVae(model.models.vae, poisoned, { steps: 8, batchSize: 2, learningRate: 1e-3, checkpointDir: dir, checkpointEvery: 2 }).catch((e: unknown) => e);
    model.dispose();
    expect(err).toBeInstanceOf(TreeRewardError);
    expect((err as TreeRewardError).code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toBe(`Expected a finite loss at step 5 but received NaN; the run stopped with its last good checkpoint at ${join(dir, 'step-00000004')} (lower the learning rate or check the data)`);
    expect(latestTrainingCheckpoint(dir)).toBe(join(dir, 'step-00000004'));
    const { tensors } = readSafetensors(join(dir, 'step-00000004', 'weights.safetensors'));
    for (const [name, t] of tensors) expect(Array.from(t.toArray()).every(Number.isFinite), name).toBe(true);
    expect(readCheckpointState(join(dir, 'step-00000004')).losses.every(Number.isFinite)).toBe(true);
  });

  it('checks its options and its checkpoints', async () => {
    const model = buildDiffusionModel(tinySpec(), 3);
    await expect(trainVae(model.models.vae, dataset, { steps: 0, batchSize: 2 })).rejects.toThrow('Expected an integer >= 1 for options.steps but received 0');
    await expect(trainVae(model.models.vae, dataset, { steps: 2, batchSize: 2, resume: true })).rejects.toThrow('Expected a checkpointDir to resume from for options.checkpointDir but received undefined');
    const dir = tmp();
    await trainVae(model.models.vae, dataset, { steps: 1, batchSize: 2, checkpointDir: dir });
    await expect(trainDiffusion(model.models, dataset, { scheduler: { kind: 'ddpm' }, steps: 2, batchSize: 2, checkpointDir: dir, resume: true }))
      .rejects.toThrow(`Expected a checkpoint of a diffusion run in ${join(dir, 'step-00000001')} but received one of a vae run`);
    expect(existsSync(join(dir, 'step-00000001.partial'))).toBe(false);
    model.dispose();
  });
});

async function vaeRun(dir: string, extra: Partial<Parameters<typeof trainVae>[2]> = {}) {
  const model = buildDiffusionModel(tinySpec(), 13);
  try {
    return await trainVae(model.models.vae, dataset, { steps: 6, batchSize: 3, learningRate: 1e-3, klWeight: 1e-3, seed: 9, checkpointDir: dir, ...extra });
  } finally {
    model.dispose();
  }
}
