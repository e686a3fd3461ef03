// sampling.test.ts: classifier-free guidance, per-image seeding, progress, cancellation between steps,
// image-to-image and short runs, on the native tiny UNet.
import { afterAll, describe, expect, it } from 'vitest';

import { noGrad, Rng, TreeRewardError, type Tensor } from '../../src/index.js';
import { buildDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { guidedOutput } from '../../src/diffusion/sampling/guidance.js';
import { ImageNoise } from '../../src/diffusion/sampling/image-noise.js';
import { sampleLatents } from '../../src/diffusion/sampling/sample-latents.js';
import { createScheduler } from '../../src/diffusion/schedulers/index.js';
import { recording, tinySpec } from './tiny-model.js';

const model = buildDiffusionModel(tinySpec(), 1);
const { unet, tokenizer, textEncoder } = model.models;
const encode = (prompts: string[]): Tensor => noGrad(() => textEncoder.encode(tokenizer.tokenize(prompts)));
const arr = (t: Tensor) => Array.from(t.toArray());
afterAll(() => model.dispose());

describe('classifier-free guidance', () => {
  const x = new Rng(0).randn([2, 4, 8, 8]);
  const cond = encode(['a red star', 'a blue ring']), uncond = encode(['', '']);

  it('eps = eps_u + s (eps_c - eps_u), from one call on the doubled batch', () => {
    const rec = recording(unet);
    const got = noGrad(() => guidedOutput(rec.predictor, x, 501, cond, uncond, 4));
    expect(rec.calls.map((c) => c.batch)).toEqual([4]);
    const { epsU, epsC } = noGrad(() => ({ epsU: guidedOutput(unet, x, 501, uncond, null, 1), epsC: guidedOutput(unet, x, 501, cond, null, 1) }));
    const want = arr(epsU).map((u, i) => u + 4 * (arr(epsC)[i] - u));
    arr(got).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });

  it('guidance 1 is the conditional model alone (one call on the prompts, the same latents)', async () => {
    const rec = recording(unet);
    const run = (predictor = rec.predictor, uc: Tensor | null = uncond) =>
      sampleLatents({ unet: predictor, scheduler: createScheduler({ kind: 'ddim' }), cond, uncond: uc, guidanceScale: 1, seeds: [3, 4], latentShape: [4, 8, 8], steps: 3 });
    const guided = await run();
    expect(rec.calls.map((c) => c.batch)).toEqual([2, 2, 2]);
    const condOnly = await run(unet, null);
    expect(arr(guided)).toEqual(arr(condOnly));
    await expect(run(unet, null).then(() => sampleLatents({ unet, scheduler: createScheduler({ kind: 'ddim' }), cond, guidanceScale: 2, seeds: [3, 4], latentShape: [4, 8, 8], steps: 1 })))
      .rejects.toThrow('Expected unconditional text states for a guidance scale other than 1 for uncond but received null');
  });
});

describe('seeded sampling', () => {
  it("each image's noise comes from its own seed alone", () => {
    const both = new ImageNoise([5, 6]).sample([2, 3, 2, 2]);
    const alone = new ImageNoise([6]).sample([1, 3, 2, 2]);
    expect(arr(both.slice(0, 1, 2))).toEqual(arr(alone));
    expect(arr(new ImageNoise([5, 6]).sample([2, 3, 2, 2]))).toEqual(arr(both));
  });

  it('image i depends only on (prompt i, seed i): batched and alone agree, for stochastic schedulers too', async () => {
    for (const kind of ['ddim', 'ddpm', 'euler'] as const) {
      const scheduler = () => createScheduler({ kind, ancestral: kind === 'euler' });
      const cond3 = encode(['a red star', 'a blue ring', 'a green square']), uncond3 = encode(['', '', '']);
      const batched = await sampleLatents({ unet, scheduler: scheduler(), cond: cond3, uncond: uncond3, guidanceScale: 3, seeds: [10, 11, 12], latentShape: [4, 8, 8], steps: 3 });
      const alone = await sampleLatents({ unet, scheduler: scheduler(), cond: encode(['a blue ring']), uncond: encode(['']), guidanceScale: 3, seeds: [11], latentShape: [4, 8, 8], steps: 3 });
      const b = arr(batched.slice(0, 1, 2)), a = arr(alone);
      b.forEach((v, i) => expect(Math.abs(v - a[i]), `${kind} element ${i}`).toBeLessThan(1e-4)); // float rounding of batched matmuls only
      const again = await sampleLatents({ unet, scheduler: scheduler(), cond: cond3, uncond: uncond3, guidanceScale: 3, seeds: [10, 11, 12], latentShape: [4, 8, 8], steps: 3 });
      expect(arr(again)).toEqual(arr(batched));
    }
  });
});

describe('progress and cancellation', () => {
  const cond = encode(['a red star']), uncond = encode(['']);

  it('reports each step and stops between steps when the signal fires', async () => {
    const rec = recording(unet);
    const stop = new AbortController();
    const seen: number[] = [];
    const run = sampleLatents({
      unet: rec.predictor, scheduler: createScheduler({ kind: 'ddim' }), cond, uncond, guidanceScale: 2, seeds: [0], latentShape: [4, 8, 8], steps: 5,
      signal: stop.signal,
      onStep: (p) => {
        seen.push(p.timestep);
        expect(p.totalSteps).toBe(5);
        if (p.step === 2) stop.abort(new Error('user pressed ctrl-c'));
      },
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TreeRewardError);
    expect((err as TreeRewardError).code).toBe('INVALID_ARGUMENT');
    expect((err as TreeRewardError).message).toBe('Expected sampling to run to the end but it was aborted before step 3 of 5 (options.signal)');
    expect(((err as TreeRewardError).cause as Error).message).toBe('user pressed ctrl-c');
    expect(seen).toEqual([801, 601]);
    expect(rec.calls.length).toBe(2);
  });

  it('an abort from a timer lands between steps (the loop yields to the event loop)', async () => {
    const stop = new AbortController();
    let steps = 0;
    setTimeout(() => stop.abort(), 0);
    await expect(sampleLatents({ unet, scheduler: createScheduler({ kind: 'ddim' }), cond, uncond, guidanceScale: 2, seeds: [0], latentShape: [4, 8, 8], steps: 200, signal: stop.signal, onStep: () => steps++ }))
      .rejects.toThrow(/aborted before step \d+ of 200/);
    expect(steps).toBeLessThan(200);
  });
});

describe('image-to-image and short runs', () => {
  const cond = encode(['a red star']), uncond = encode(['']);
  const z0 = new Rng(7).randn([1, 4, 8, 8]).mul(0.5);

  it('strength s runs the last floor(n s) timesteps from the noised latents; 0 returns them', async () => {
    const rec = recording(unet);
    await sampleLatents({ unet: rec.predictor, scheduler: createScheduler({ kind: 'ddim' }), cond, uncond, guidanceScale: 2, seeds: [0], latentShape: [4, 8, 8], steps: 10, init: { latents: z0, strength: 0.5 } });
    expect(rec.calls.map((c) => c.t[0])).toEqual([401, 301, 201, 101, 1]);
    const none = await sampleLatents({ unet, scheduler: createScheduler({ kind: 'ddim' }), cond, uncond, guidanceScale: 2, seeds: [0], latentShape: [4, 8, 8], steps: 10, init: { latents: z0, strength: 0 } });
    expect(arr(none)).toEqual(arr(z0));
  });

  it('fewer steps still produce finite latents, with every scheduler', async () => {
    for (const kind of ['ddpm', 'ddim', 'euler', 'dpm-solver++'] as const) {
      for (const steps of [1, 2, 3]) {
        const z = await sampleLatents({ unet, scheduler: createScheduler({ kind }), cond, uncond, guidanceScale: 2, seeds: [1], latentShape: [4, 8, 8], steps });
        expect(z.shape).toEqual([1, 4, 8, 8]);
        expect(arr(z).every(Number.isFinite), `${kind}, ${steps} steps`).toBe(true);
      }
    }
  });
});
