// refl-gradient-check.ts: does the gradient ReFL follows point uphill on a real reward model?
//   npx tsx bench/refl-gradient-check.ts [--reward DIR] [--model assets/world-generator]
// 1. R's gradient with respect to the image against finite differences along it (renders of four
//    training prompts): the change of sum R for a step h along g/|g| should be h |g|.
// 2. The same for the UNet's parameters through one ReFL step (40 DDPM steps, stop index from
//    [30, 39], fixed noise). The finite difference is larger than h |g| there: moving the weights also
//    moves the no-gradient prefix, which ReFL's gradient leaves out by design.
import { parseArgs } from 'node:util';

import { noGrad, Rng, tidy, type Tensor } from '../src/index.js';
import { loadDiffusionModel } from '../src/diffusion/pipeline/model-dir.js';
import { createScheduler } from '../src/diffusion/schedulers/index.js';
import { parseSchedulerConfig } from '../src/diffusion/schedulers/scheduler-config.js';
import { native } from '../src/native/addon.js';
import { differentiableScheduler } from '../src/refl/differentiable-scheduler.js';
import { sampleWithGradient } from '../src/refl/reward-sample.js';
import { loadRewardModel } from '../src/reward/checkpoint.js';
import { imagesToTensor } from '../src/reward/preprocess.js';
import { trainingPrompt } from '../src/world/benchmark.js';
import { WorldGenerator } from '../src/world/world-generator.js';

const { values } = parseArgs({ options: { reward: { type: 'string', default: 'runs/demo-v/rewards/tree/seed-0/model' }, model: { type: 'string', default: 'assets/world-generator' } } });
const reward = loadRewardModel(values.reward!);
for (const p of reward.parameters().values()) p.requiresGrad = false;
const prompts = Array.from({ length: 4 }, (_, i) => trainingPrompt('color', 900 + i));
const norm = (ts: Tensor[]) => Math.sqrt(ts.reduce((s, t) => s + t.pow(2).sum().item(), 0));

// 1. image
const images = await new WorldGenerator({ size: 64 }).generate(prompts, [1, 2, 3, 4], { quality: 0.5, degrade: ['color', 'lighting'] });
const x = imagesToTensor(images);
const xg = x.clone().requiresGrad_();
const R = reward.score(prompts, xg).reward.sum();
const r0 = R.item();
R.backward();
const g = xg.grad!, gn = norm([g]);
for (const h of [1e-3, 1e-2, 1e-1, 1]) {
  const r = noGrad(() => tidy(() => reward.score(prompts, x.add(g.mul(h / gn))).reward.sum().item()));
  console.log(`image, step ${h}: sum R change ${(r - r0).toExponential(3)}, gradient predicts ${(h * gn).toExponential(3)}`);
}

// 2. UNet parameters through one ReFL step
const model = loadDiffusionModel(values.model!);
const { unet, vae, textEncoder, tokenizer } = model.models;
const cond = noGrad(() => textEncoder.encode(tokenizer.tokenize(prompts)));
const sampling = {
  unet, vae, scheduler: differentiableScheduler(createScheduler(parseSchedulerConfig({ ...model.spec.scheduler, kind: 'ddpm' }))), steps: 40,
  method: { kind: 'refl' as const, stopRange: [30, 39] as [number, number] }, latentShape: [4, 16, 16] as const, guidanceScale: 1, guidanceWithGradient: false, checkpointing: false,
};
const params = [...unet.parameters().values()];
for (const p of params) p.requiresGrad = true;
const rewardOfSample = () => noGrad(() => tidy(() => {
  const s = sampleWithGradient(sampling, cond, null, new Rng(42));
  const r = reward.score(prompts, s.image).reward.sum().item();
  s.release();
  return r;
}));
const s = sampleWithGradient(sampling, cond, null, new Rng(42));
const Rs = reward.score(prompts, s.image).reward.sum();
const rs0 = Rs.item();
Rs.backward();
s.release();
const grads = params.map((p) => p.grad!.clone());
const pn = norm(grads);
const shift = (h: number) => noGrad(() => params.forEach((p, i) => {
  const moved = p.add(grads[i].mul(h / pn));
  native().copyInto(p.handle, moved.handle);
  moved.dispose();
}));
for (const h of [1e-4, 1e-3, 1e-2]) {
  shift(h);
  const r = rewardOfSample();
  shift(-h);
  console.log(`UNet weights, step ${h}: sum R change ${(r - rs0).toExponential(3)}, gradient predicts ${(h * pn).toExponential(3)}`);
}
model.dispose();
reward.dispose();
