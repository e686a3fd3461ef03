// improves.test.ts: ReFL does what it is for. With a reward whose optimum is known (how red the image
// is: mean of r - (g + b) / 2), tuning the tiny generator raises that reward on fixed prompts and
// seeds that were never its training samples; a reward of the opposite sign lowers it. Gradient
// correctness is gradient.test.ts's; this checks the sign and that the update reaches the samples.
import { afterAll, describe, expect, it } from 'vitest';

import { noGrad, type Tensor } from '../../src/index.js';
import { imagesToPixels } from '../../src/diffusion/pipeline/rgb-images.js';
import { runRefl } from '../../src/refl/run-refl.js';
import type { RewardModel, RewardOutput } from '../../src/reward/reward-model.js';
import { PROMPTS, tempDir, tinyConfig, tinyModel } from './helpers.js';

/** R = sign * mean over pixels of (r - (g + b) / 2), images in [0, 1]. */
function redness(sign: 1 | -1): RewardModel {
  return {
    name: sign > 0 ? 'red' : 'not-red', imageSize: 16,
    score(_prompts: string[], images: Tensor): RewardOutput {
      const r = images.slice(1, 0, 1), g = images.slice(1, 1, 2), b = images.slice(1, 2, 3);
      return { reward: r.sub(g.add(b).mul(0.5)).mean([1, 2, 3]).mul(sign) };
    },
    parameters: () => new Map(),
    dispose: () => {},
  };
}

/** Mean redness of the model's samples of fixed prompts and seeds (not ReFL's own draws). */
async function sampleRedness(model: ReturnType<typeof tinyModel>): Promise<number> {
  const prompts = [...PROMPTS, ...PROMPTS];
  const images = await model.pipeline().generate(prompts, prompts.map((_, i) => 1000 + i), { steps: 4, guidanceScale: 1, scheduler: { kind: 'ddim' } });
  return noGrad(() => {
    const px = imagesToPixels(images); // [-1, 1]
    const red = redness(1).score(prompts, px.add(1).mul(0.5)).reward.mean().item();
    px.dispose();
    return red;
  });
}

const models: ReturnType<typeof tinyModel>[] = [];
afterAll(() => { for (const m of models) m.dispose(); });

describe('ReFL raises the reward it is given', () => {
  for (const sign of [1, -1] as const) {
    it(`a ${sign > 0 ? 'redness' : 'negative redness'} reward moves the samples' redness ${sign > 0 ? 'up' : 'down'}`, async () => {
      const model = tinyModel(3);
      models.push(model);
      const before = await sampleRedness(model);
      await runRefl(tinyConfig(tempDir('improves'), { steps: 25, objective: { lambda: 1 }, train: { learningRate: 3e-3 } }), {
        model, reward: redness(sign), prompts: PROMPTS,
      });
      const after = await sampleRedness(model);
      console.log(`redness reward x${sign}: samples' redness ${before.toFixed(4)} -> ${after.toFixed(4)}`);
      expect(sign * (after - before)).toBeGreaterThan(0.02);
    }, 120_000);
  }
});
