// refl.test.ts: a ReFL run with config.device "cuda": the generator and the reward model move to the GPU,
// every tensor the run makes is made there (onDevice), and the run's losses, rewards and tuned weights
// agree with the same run on the CPU; it checkpoints, resumes and trains LoRA there too. Skipped where no
// GPU is visible (and run on the CUDA simulator by npm run test:cuda-sim).
import { describe, expect, it } from 'vitest';

import { hasCuda, type Tensor } from '../../src/index.js';
import { pretrainFromList } from '../../src/refl/pretrain-data.js';
import { runRefl } from '../../src/refl/run-refl.js';
import { PROMPTS, pretrainPairs, tempDir, tinyConfig, tinyModel, tinyTree } from '../refl/helpers.js';
import { expectNear, host } from './helpers.js';

const weights = (params: Map<string, Tensor>) => new Map([...params].map(([n, p]) => [n, host(p)]));

describe.skipIf(!hasCuda())('ReFL on cuda', () => {
  const pretrain = pretrainFromList(pretrainPairs());

  async function run(device: 'cpu' | 'cuda', overrides: Parameters<typeof tinyConfig>[1] = {}) {
    const model = tinyModel(1), reward = tinyTree(2);
    const out = tempDir(`gpu-${device}`);
    const result = await runRefl(tinyConfig(out, { device, ...overrides }), { model, reward, prompts: PROMPTS, pretrain });
    const unet = weights(model.models.unet.parameters());
    const devices = new Set([...model.models.unet.parameters().values(), ...reward.parameters().values()].map((p) => p.device));
    model.dispose();
    reward.dispose();
    return { result, unet, devices, out };
  }

  it('gives the CPU run\'s losses, rewards and tuned UNet, with every model on the GPU', { timeout: 600_000 }, async () => {
    const cpu = await run('cpu'), gpu = await run('cuda');
    expect([...gpu.devices]).toEqual(['cuda']);
    expect(gpu.result.steps).toBe(3);
    expectNear(gpu.result.losses, cpu.result.losses, 1e-3, 'losses');
    expectNear(gpu.result.rewards, cpu.result.rewards, 1e-3, 'rewards');
    for (const [n, w] of cpu.unet) expectNear(gpu.unet.get(n)!, w, 1e-3, `unet.${n}`);
  });

  it('resumes from its checkpoint on the GPU with the uninterrupted run\'s losses', { timeout: 600_000 }, async () => {
    const full = await run('cuda', { steps: 3, checkpointEvery: 2 });
    const model = tinyModel(1), reward = tinyTree(2);
    const runtime = { model, reward, prompts: PROMPTS, pretrain };
    const out = tempDir('gpu-resume');
    await runRefl(tinyConfig(out, { device: 'cuda', steps: 2, checkpointEvery: 2 }), runtime);
    model.dispose();
    const model2 = tinyModel(1);
    const resumed = await runRefl(tinyConfig(out, { device: 'cuda', steps: 3, checkpointEvery: 2, resume: true }), { ...runtime, model: model2 });
    expect(resumed.resumedFrom).toBe(2);
    expectNear(resumed.losses, full.result.losses, 1e-5, 'losses after the resume');
    model2.dispose();
    reward.dispose();
  });

  it('trains LoRA adapters on the GPU and saves them', { timeout: 600_000 }, async () => {
    const cpu = await run('cpu', { train: { learningRate: 1e-3, target: 'lora' } });
    const gpu = await run('cuda', { train: { learningRate: 1e-3, target: 'lora' } });
    expect(gpu.result.loraFile).not.toBeNull();
    expectNear(gpu.result.losses, cpu.result.losses, 1e-3, 'LoRA losses');
  });
});
