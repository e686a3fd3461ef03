// default-device.test.ts: onDevice(device, fn) makes the tensors that name no device on `device` while fn
// runs (and until the promise it returns settles), and restores the previous default after, also when fn
// throws. Without a GPU, making a tensor inside onDevice('cuda') is CUDA_UNAVAILABLE, and a ReFL config
// with device "cuda" is refused before anything is loaded.
import { describe, expect, it } from 'vitest';

import { defaultDevice, hasCuda, onDevice, Rng, tensor, TreeRewardError, zeros } from '../../src/index.js';
import { runRefl } from '../../src/refl/run-refl.js';
import { ArrayPairSource } from '../../src/reward/array-pair-source.js';
import { runRewardLoop } from '../../src/reward/train-loop.js';

describe('the default device', () => {
  // (choosing "cuda" as the default needs no GPU: only making a tensor there does)
  it('is the cpu, and onDevice nests and restores it', () => {
    expect(defaultDevice()).toBe('cpu');
    const seen = onDevice('cuda', () => [defaultDevice(), onDevice('cpu', () => defaultDevice()), defaultDevice()]);
    expect(seen).toEqual(['cuda', 'cpu', 'cuda']);
    expect(defaultDevice()).toBe('cpu');
    expect(() => onDevice('cuda', () => { throw new Error('boom'); })).toThrow('boom');
    expect(defaultDevice()).toBe('cpu');
    expect(() => onDevice('tpu' as never, () => 1)).toThrow(TreeRewardError);
  });

  it('stays set across an async function until its promise settles', async () => {
    const seen: string[] = [];
    const done = onDevice('cuda', async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(defaultDevice());
      return 7;
    });
    expect(defaultDevice()).toBe('cuda');  // until the promise settles
    expect(await done).toBe(7);
    expect(seen).toEqual(['cuda']);
    expect(defaultDevice()).toBe('cpu');
  });

  it.skipIf(hasCuda())('without a GPU: tensors made inside onDevice("cuda") fail with CUDA_UNAVAILABLE, and the default comes back', () => {
    for (const make of [() => zeros([2]), () => tensor([1, 2]), () => new Rng(1).randn([3])]) {
      let code = '';
      try {
        onDevice('cuda', make);
      } catch (e) {
        code = (e as TreeRewardError).code;
      }
      expect(code).toBe('CUDA_UNAVAILABLE');
      expect(defaultDevice()).toBe('cpu');
    }
  });

  it.skipIf(hasCuda())('without a GPU: reward training on device "cuda" is refused before a step', async () => {
    const model = { parameters: () => new Map(), to: () => { throw new Error('must not move'); } };
    await expect(runRewardLoop(model, [{ params: [], lr: 1 }], new ArrayPairSource([]), () => { throw new Error('must not run'); }, { steps: 1, batchSize: 1, device: 'cuda' }))
      .rejects.toThrow('Expected a visible CUDA GPU for device "cuda" but found none');
  });

  it.skipIf(hasCuda())('without a GPU: a ReFL run on device "cuda" is refused before it loads anything', async () => {
    await expect(runRefl({ output: '/nonexistent/out', steps: 1, device: 'cuda', model: '/nonexistent/model' })).rejects.toThrow(
      'Expected a visible CUDA GPU for config.device "cuda" but found none');
  });
});
