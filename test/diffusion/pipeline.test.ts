// pipeline.test.ts: DiffusionPipeline as a Generator (8-bit RGB, seeds, sizes, progress, abort),
// image-to-image, the pixel conversions, and model directories (save, load, bad weights by name).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { readSafetensors, tensor, TreeRewardError, writeSafetensors, type Generator, type RgbImage } from '../../src/index.js';
import { DiffusionPipeline } from '../../src/diffusion/pipeline/diffusion-pipeline.js';
import { buildDiffusionModel, loadDiffusionModel, saveDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { imageGrid, imagesToPixels, pixelsToImages } from '../../src/diffusion/pipeline/rgb-images.js';
import { IdentityVae } from '../../src/diffusion/tiny/identity-vae.js';
import { recording, standInSpec, tinySpec } from './tiny-model.js';

const model = buildDiffusionModel(tinySpec(), 2);
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'treereward-pipeline-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  model.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function checker(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101) % 256;
  return { width: w, height: h, data };
}

describe('pixels and images', () => {
  it('round-trips 8-bit images through [-1, 1] pixels exactly', () => {
    const imgs = [checker(5, 3, 0), checker(5, 3, 1)];
    const px = imagesToPixels(imgs);
    expect(px.shape).toEqual([2, 3, 3, 5]);
    const back = pixelsToImages(px);
    expect(back.map((b) => Array.from(b.data))).toEqual(imgs.map((i) => Array.from(i.data)));
    const first = Array.from(px.slice(0, 0, 1).slice(1, 0, 1).slice(2, 0, 1).slice(3, 0, 2).toArray());
    [0 / 127.5 - 1, 111 / 127.5 - 1].forEach((v, i) => expect(first[i]).toBeCloseTo(v, 6));
  });

  it('clamps and rounds out-of-range pixels', () => {
    // channels R = [-2, 2], G = [0, 0.5], B = [-0.999, 1.001]; 127.5 rounds half to even
    const img = pixelsToImages(tensor([-2, 2, 0, 0.5, -0.999, 1.001], [1, 3, 1, 2]))[0];
    expect(Array.from(img.data)).toEqual([0, 128, 0, 255, 191, 255]);
  });

  it('lays images out in a grid, left to right, top to bottom', () => {
    const a = { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) }, b = { width: 1, height: 1, data: new Uint8Array([4, 5, 6]) };
    const g = imageGrid([a, b, a]);
    expect([g.width, g.height]).toEqual([2, 2]);
    expect(Array.from(g.data)).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 0, 0, 0]);
  });
});

describe('DiffusionPipeline', () => {
  const pipe: Generator = model.pipeline();

  it('generates 8-bit RGB images of the default size, deterministic per seed, independent of the batch', async () => {
    const p = model.pipeline();
    const imgs = await pipe.generate(['a red star', 'a blue ring', 'a green square'], [1, 2, 3]);
    expect(imgs.map((i) => [i.width, i.height, i.data.length])).toEqual([[16, 16, 768], [16, 16, 768], [16, 16, 768]]);
    const alone = await pipe.generate(['a blue ring'], [2]);
    const diff = Math.max(...Array.from(alone[0].data, (v, i) => Math.abs(v - imgs[1].data[i])));
    expect(diff).toBeLessThanOrEqual(1);
    const small = new DiffusionPipeline(p.models, { scheduler: p.scheduler, size: 16, steps: 4, guidanceScale: 3, batchSize: 1 });
    const oneByOne = await small.generate(['a red star', 'a blue ring', 'a green square'], [1, 2, 3]);
    oneByOne.forEach((img, k) => expect(Math.max(...Array.from(img.data, (v, i) => Math.abs(v - imgs[k].data[i])))).toBeLessThanOrEqual(1));
    const other = await pipe.generate(['a blue ring'], [99]);
    expect(Array.from(other[0].data)).not.toEqual(Array.from(alone[0].data));
  });

  it('honours steps, size, guidance and scheduler overrides, and reports progress', async () => {
    const p = model.pipeline();
    const rec = recording(p.models.unet);
    const custom = new DiffusionPipeline({ ...p.models, unet: rec.predictor }, { scheduler: { kind: 'euler' }, size: 16, steps: 4, guidanceScale: 1, batchSize: 2 });
    const progress: string[] = [];
    const imgs = await custom.generate(['a', 'b', 'c'], [0, 1, 2], { steps: 2, size: 24, onProgress: (q) => progress.push(`${q.done}/${q.total}`) });
    expect(imgs.map((i) => i.width)).toEqual([24, 24, 24]);
    expect(rec.calls.map((c) => c.batch)).toEqual([2, 2, 1, 1]);
    expect(progress).toEqual(['2/6', '4/6', '5/6', '6/6']);
    rec.calls.length = 0;
    await custom.generate(['a'], [0], { steps: 1, guidanceScale: 5, scheduler: { kind: 'dpm-solver++' } });
    expect(rec.calls.map((c) => c.batch)).toEqual([2]);
  });

  it('stops between steps when the signal fires', async () => {
    const stop = new AbortController();
    const p = model.pipeline();
    const err = await p.generate(['a', 'b'], [0, 1], { steps: 4, signal: stop.signal, onProgress: (q) => q.done === 2 && stop.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TreeRewardError);
    expect((err as Error).message).toBe('Expected sampling to run to the end but it was aborted before step 2 of 4 (options.signal)');
  });

  it('image-to-image: strength 0 gives back the image through the VAE, with the identity VAE exactly', async () => {
    const p = model.pipeline();
    const ident = new DiffusionPipeline({ ...p.models, vae: new IdentityVae() }, { scheduler: { kind: 'ddim' }, size: 16, steps: 4 });
    const img = checker(16, 16, 4);
    const [same] = await ident.imageToImage([img], ['a red star'], [0], { strength: 0 });
    expect(Array.from(same.data)).toEqual(Array.from(img.data));
    const rec = recording(p.models.unet);
    const partial = new DiffusionPipeline({ ...p.models, unet: rec.predictor }, { scheduler: { kind: 'ddim' }, size: 16, steps: 10, guidanceScale: 2 });
    const [out] = await partial.imageToImage([img], ['a red star'], [0], { strength: 0.3 });
    expect(out.width).toBe(16);
    expect(rec.calls.map((c) => c.t[0])).toEqual([201, 101, 1]);
  });

  it('rejects bad arguments in the house form', async () => {
    await expect(pipe.generate(['a', 'b'], [1])).rejects.toThrow('Expected 2 seeds (one per prompt) for seeds but received [1]');
    await expect(pipe.generate(['a'], [-1])).rejects.toThrow('Expected a non-negative integer for seeds[0] but received -1');
    await expect(pipe.generate(['a'], [1], { size: 18 })).rejects.toThrow("Expected a positive multiple of 4 (the VAE's and the UNet's downsampling) for options.size but received 18");
    await expect(model.pipeline().generate(['a'], [1], { scheduler: { kind: 'plms' as never } })).rejects.toThrow('Expected one of "ddpm", "ddim", "euler", "dpm-solver++" for options.scheduler.kind but received "plms"');
  });
});

describe('model directories', () => {
  it('save then load gives the same images', async () => {
    const dir = tmp();
    saveDiffusionModel(dir, model);
    const index = JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8'));
    expect(index).toMatchObject({
      format: 'treereward-diffusion', version: 1, name: 'tiny-test',
      tokenizer: { kind: 'word', weights: null, config: { maxLength: 8 } }, textEncoder: { kind: 'clip-text', weights: 'text_encoder.safetensors', config: { hidden_size: 32 } },
      unet: { kind: 'unet2d-condition', weights: 'unet.safetensors' }, vae: { kind: 'autoencoder-kl', weights: 'vae.safetensors', config: { scaling_factor: 0.18215 } },
      scheduler: { kind: 'ddim', betaSchedule: 'scaled_linear', timestepSpacing: 'leading', stepsOffset: 1 },
      defaults: { size: 16, steps: 4, guidanceScale: 3 },
    });
    const loaded = loadDiffusionModel(dir);
    try {
      const a = await model.pipeline().generate(['a red star'], [5]);
      const b = await loaded.pipeline().generate(['a red star'], [5]);
      expect(Array.from(b[0].data)).toEqual(Array.from(a[0].data));
    } finally {
      loaded.dispose();
    }
  });

  it('save then load with the stand-in tokenizer and text encoder', async () => {
    const dir = tmp();
    const standIn = buildDiffusionModel(standInSpec(), 4);
    saveDiffusionModel(dir, standIn);
    const loaded = loadDiffusionModel(dir);
    try {
      expect(JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8'))).toMatchObject({ tokenizer: { kind: 'word-hash', weights: null }, textEncoder: { kind: 'tiny-text' } });
      const a = await standIn.pipeline().generate(['a red star'], [5]);
      const b = await loaded.pipeline().generate(['a red star'], [5]);
      expect(Array.from(b[0].data)).toEqual(Array.from(a[0].data));
    } finally {
      loaded.dispose();
      standIn.dispose();
    }
  });

  it("a tokenizer read from files (CLIP's BPE) travels with the saved directory", async () => {
    const vocab: Record<string, number> = {};
    for (const c of 'abcdefghijklmnopqrstuvwxyz') {
      vocab[c] = Object.keys(vocab).length;
      vocab[`${c}</w>`] = Object.keys(vocab).length;
    }
    const merges = ['r e', 're d</w>', 's t', 'st a', 'sta r</w>'];
    for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
    vocab['<|startoftext|>'] = Object.keys(vocab).length;
    vocab['<|endoftext|>'] = Object.keys(vocab).length;
    const source = tmp();
    writeFileSync(join(source, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(join(source, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
    const clipModel = buildDiffusionModel(tinySpec({ tokenizer: { kind: 'files', config: { path: source, maxLength: 16 } } }), 6);
    const ids = clipModel.models.tokenizer.tokenize(['a red star']);
    expect(ids.shape).toEqual([1, 16]);
    expect(Array.from(ids.toArray()).slice(0, 6)).toEqual([vocab['<|startoftext|>'], vocab['a</w>'], vocab['red</w>'], vocab['star</w>'], vocab['<|endoftext|>'], vocab['<|endoftext|>']]);
    const dir = tmp();
    saveDiffusionModel(dir, clipModel);
    rmSync(source, { recursive: true });
    expect(JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8')).tokenizer).toEqual({ kind: 'files', config: { path: 'tokenizer', maxLength: 16 }, weights: null });
    const loaded = loadDiffusionModel(dir);
    try {
      const a = await clipModel.pipeline().generate(['a red star'], [1]);
      const b = await loaded.pipeline().generate(['a red star'], [1]);
      expect(Array.from(b[0].data)).toEqual(Array.from(a[0].data));
    } finally {
      loaded.dispose();
      clipModel.dispose();
    }
  });

  it('names missing, unexpected and mis-shaped weights', () => {
    const dir = tmp();
    saveDiffusionModel(dir, buildDiffusionModel(standInSpec(), 4));
    const { tensors } = readSafetensors(join(dir, 'text_encoder.safetensors'));
    tensors.delete('proj.bias');
    tensors.set('proj.extra', tensor([1], [1]));
    tensors.set('proj.weight', tensor([1, 2], [1, 2]));
    writeSafetensors(join(dir, 'text_encoder.safetensors'), tensors);
    expect(() => loadDiffusionModel(dir)).toThrow(
      `Expected weights matching the parameters of textEncoder (${join(dir, 'text_encoder.safetensors')}) but found: missing 1 (proj.bias); unexpected 1 (proj.extra); proj.weight: expected shape [32, 32] but received [1, 2]`,
    );
  });

  it('checks model_index.json with messages that name the field', () => {
    const dir = tmp();
    saveDiffusionModel(dir, model);
    const index = JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8'));
    writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ ...index, unet: { ...index.unet, kind: 'unet3d' } }));
    expect(() => loadDiffusionModel(dir)).toThrow('Expected a unet kind (one of unet2d-condition) for unet.kind but received "unet3d"');
    writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ ...index, defaults: { ...index.defaults, steps: 0 } }));
    expect(() => loadDiffusionModel(dir)).toThrow('Expected a value >= 1 for model_index.json.defaults.steps but received 0');
    writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ ...index, unet: { ...index.unet, config: { ...index.unet.config, norm_num_groups: 7 } } }));
    expect(() => loadDiffusionModel(dir)).toThrow('Expected channels divisible by unet.config.norm_num_groups (7) for unet.config.block_out_channels[0] but received 32');
    expect(() => loadDiffusionModel(join(dir, 'nope'))).toThrow(`Expected a model directory with model_index.json for dir but received ${JSON.stringify(join(dir, 'nope'))} (no model_index.json in it)`);
  });
});
