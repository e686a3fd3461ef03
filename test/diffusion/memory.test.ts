// memory.test.ts: sampling, image-to-image and training leave no native tensors behind.
import { describe, expect, it } from 'vitest';

import { memoryStats } from '../../src/index.js';
import { buildDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { imageTextDataset, trainDiffusion, trainVae } from '../../src/diffusion/train/index.js';
import { tinySpec } from './tiny-model.js';

describe('native memory', () => {
  it('is flat across generate, imageToImage and training runs', async () => {
    const model = buildDiffusionModel(tinySpec(), 0);
    const pipe = model.pipeline();
    const images = await pipe.generate(['a red star', 'a blue ring', 'a', 'b'], [0, 1, 2, 3], { steps: 2 });
    const dataset = imageTextDataset(images, ['a red star', 'a blue ring', 'a', 'b']);
    const before = memoryStats().liveBuffers;
    for (const kind of ['ddpm', 'ddim', 'euler', 'dpm-solver++'] as const) {
      await pipe.generate(['a red star', 'b'], [0, 1], { steps: 3, scheduler: { kind, ancestral: kind === 'euler' } });
      await pipe.imageToImage(images.slice(0, 2), ['a', 'b'], [0, 1], { steps: 4, strength: 0.5, scheduler: { kind } });
    }
    await trainDiffusion(model.models, dataset, { scheduler: { kind: 'ddpm' }, steps: 2, batchSize: 2, gradientAccumulation: 2, trainTextEncoder: true });
    await trainVae(model.models.vae, dataset, { steps: 2, batchSize: 2 });
    expect(memoryStats().liveBuffers).toBeLessThanOrEqual(before);
    model.dispose();
  });
});
