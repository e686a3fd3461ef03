// gradient.test.ts: the reward's gradient reaches the UNet through the VAE decode and the reward
// model: the autograd directional derivative of L_reward = -mean(R) along a random direction in all
// of the UNet's weights agrees with a central finite difference (float32, 3% tolerance), for ReFL's
// one step and for DRaFT-K through four scheduler steps; none of it lands in the frozen VAE, text
// encoder or reward model. (The stop index is 0: no step runs without gradient, so L is a function of
// the weights alone and the finite difference sees what autograd sees.)
import { afterAll, describe, expect, it } from 'vitest';

import { noGrad, Rng, tidy, type Tensor } from '../../src/index.js';
import { createScheduler } from '../../src/diffusion/schedulers/index.js';
import { native } from '../../src/native/addon.js';
import type { ReflMethod } from '../../src/refl/config.js';
import { differentiableScheduler } from '../../src/refl/differentiable-scheduler.js';
import { freezeReward } from '../../src/refl/load-reward.js';
import { rewardLoss } from '../../src/refl/reward-objective.js';
import { sampleWithGradient, type RewardSampling } from '../../src/refl/reward-sample.js';
import { PROMPTS, tinyModel, tinyTree } from './helpers.js';

describe('ReFL gradient', () => {
  const model = tinyModel(3);
  const reward = tinyTree(4);
  afterAll(() => {
    model.dispose();
    reward.dispose();
  });
  const { unet, vae, textEncoder, tokenizer } = model.models;
  const prompts = PROMPTS.slice(0, 2);
  const cond = noGrad(() => textEncoder.encode(tokenizer.tokenize(prompts)));
  freezeReward(reward, false);
  for (const p of [...vae.parameters().values(), ...textEncoder.parameters().values()]) p.requiresGrad = false;
  const params = [...unet.parameters().values()];

  /** L_reward for the current weights; the stop index 0 has no steps without gradient, so L is a function of the weights alone. */
  const loss = (method: ReflMethod, withGrad: boolean): Tensor => {
    const sampling: RewardSampling = {
      unet, vae, scheduler: differentiableScheduler(createScheduler({ kind: 'ddim' })), steps: 4, method, latentShape: [4, 8, 8],
      guidanceScale: 1, guidanceWithGradient: false, checkpointing: false,
    };
    const run = () => tidy(() => rewardLoss(reward.score(prompts, sampleWithGradient(sampling, cond, null, new Rng(9)).image).reward, 'negative', 2));
    return withGrad ? run() : noGrad(run);
  };

  /** Moves every UNet weight by s * direction. */
  const shift = (direction: Tensor[], s: number) => noGrad(() => params.forEach((p, i) => tidy(() => native().copyInto(p.handle, p.add(direction[i].mul(s)).handle))));

  const cases: [string, ReflMethod][] = [['ReFL (one step with gradient)', { kind: 'refl', stopRange: [0, 0] }], ['DRaFT-K (K = 4, through the scheduler)', { kind: 'draft', k: 4 }]];
  for (const [label, method] of cases) {
    it(`${label}: autograd's directional derivative matches finite differences`, () => {
      for (const p of params) p.grad = null;
      const L = loss(method, true);
      L.backward();
      L.dispose();
      const rng = new Rng(31);
      const direction = params.map((p) => rng.randn(p.shape));
      // autograd: <dL/dtheta, d>
      let analytic = 0;
      params.forEach((p, i) => {
        const g = p.grad;
        expect(g, 'every UNet weight gets a gradient').not.toBeNull();
        analytic += tidy(() => g!.mul(direction[i]).sum().item());
        g!.dispose();
        p.grad = null;
      });
      // (L(theta + eps d) - L(theta - eps d)) / (2 eps)
      const eps = 1e-4; // each weight moves by about 1e-4: small against the curvature, large against float32 rounding
      shift(direction, eps);
      const plus = loss(method, false).item();
      shift(direction, -2 * eps);
      const minus = loss(method, false).item();
      shift(direction, eps);
      const numeric = (plus - minus) / (2 * eps);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
      expect(Math.abs(numeric - analytic) / Math.abs(analytic), `analytic ${analytic}, numeric ${numeric}`).toBeLessThan(0.03);
      for (const d of direction) d.dispose();
      // nothing flows into the frozen parts
      for (const [part, holder] of [['vae', vae], ['textEncoder', textEncoder], ['reward', reward]] as const) {
        for (const [name, p] of holder.parameters()) expect(p.grad, `${part}.${name}`).toBeNull();
      }
    });
  }
});
