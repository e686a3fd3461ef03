// helpers.ts: the smallest ReFL setting: the native tiny UNet / VAE / CLIP (latents 4x8x8, images
// 16x16) and a tiny tree reward (BLIP 'tiny' at 32 px, heads 16-8-4), seeded; and a base config.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildDiffusionModel, type DiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import type { RgbImage } from '../../src/api/interfaces.js';
import { BlipBackbone } from '../../src/models/blip.js';
import type { ReflConfigInput } from '../../src/refl/config.js';
import { TreeReward } from '../../src/reward/tree-reward.js';
import { DEFAULT_TREE, resolveTree } from '../../src/reward/tree-spec.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import { tinySpec } from '../diffusion/tiny-model.js';

export const PROMPTS = ['a red star', 'a blue ring at top', 'a green square', 'a yellow star at left'];

export function tinyModel(seed = 0): DiffusionModel {
  return buildDiffusionModel(tinySpec({ scheduler: { kind: 'ddim' } }), seed);
}

export function tinyTree(seed = 1): TreeReward {
  return new TreeReward({
    backbone: new BlipBackbone('tiny', seed),
    tree: resolveTree({ ...DEFAULT_TREE, nodeHidden: 16, leafHidden: [16, 8, 4] }),
    tokenizer: WordTokenizer.fromWords(wordsOf(PROMPTS)),
    seed: seed + 1,
  });
}

/** Seeded 16x16 images (smooth colour fields) with the prompts, for L_pretrain. */
export function pretrainPairs(n = 6): { prompt: string; image: RgbImage }[] {
  return Array.from({ length: n }, (_, k) => {
    const data = new Uint8Array(16 * 16 * 3);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const i = (y * 16 + x) * 3;
      data[i] = (40 * k + 8 * x) % 256;
      data[i + 1] = (90 + 12 * y) % 256;
      data[i + 2] = (200 - 30 * k) & 255;
    }
    return { prompt: PROMPTS[k % PROMPTS.length], image: { width: 16, height: 16, data } };
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `refl-${prefix}-`));
}

/** A short ReFL run on the tiny setting (4 DDIM steps, the gradient step drawn from 1-3). */
export function tinyConfig(output: string, overrides: Partial<ReflConfigInput> = {}): ReflConfigInput {
  return {
    output,
    steps: 3,
    batchSize: 2,
    seed: 5,
    sampling: { scheduler: { kind: 'ddim' }, steps: 4, method: { kind: 'refl', stopRange: [1, 3] } },
    train: { learningRate: 1e-3 },
    saveModel: false,
    ...overrides,
  };
}
