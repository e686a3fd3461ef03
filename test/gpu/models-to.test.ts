// models-to.test.ts: the native models run unchanged on cuda. A tiny UNet, VAE, CLIP text encoder and BLIP
// backbone are built twice from one seed; one runs forward and backward on the CPU, the other is moved to
// cuda with to('cuda') and runs the same inputs there (token ids and masks given on the host, as users
// give them): outputs, input gradients and every parameter gradient agree within float32 tolerance.
// Moving back to the CPU gives the CPU's results bit for bit. Skipped where no GPU is visible.
import { describe, expect, it } from 'vitest';

import { full, hasCuda, Rng, tidy, UNet } from '../../src/index.js';
import { differences, TINY_CASES, zeroGrads } from '../helpers/tiny-models.js';
import { expectClose } from '../helpers/gradcheck.js';
import { expectNear, host, maxAbs } from './helpers.js';

describe.skipIf(!hasCuda())('native models moved to cuda', () => {
  for (const c of TINY_CASES) {
    it(`${c.name}: forward and backward on cuda agree with the CPU, and the move back restores the CPU's results`, () => {
      const cpu = c.make(11);
      const want = c.run(cpu, 'cpu');
      const gpu = c.make(11);
      const handles = [...gpu.parameters()];  // held across the move: they must follow it
      expect(gpu.to('cuda')).toBe(gpu);
      expect(gpu.device).toBe('cuda');
      for (const [k, p] of handles) {
        expect(p.device, k).toBe('cuda');
        expect(p.isLeaf && p.requiresGrad, k).toBe(true);
      }
      const got = c.run(gpu, 'cuda');
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const k of Object.keys(want)) {
        // A key projection's bias has a zero gradient in exact arithmetic (a softmax row does not change
        // when all its scores move by one amount): both sides are rounding noise (~1e-8), so they are
        // held to the scale of the key weight's gradient instead of to their own.
        const keyWeight = /(to_k|k_proj|key)\.bias$/.test(k) ? k.replace(/bias$/, 'weight') : undefined;
        if (keyWeight && want[keyWeight]) expectClose(got[k], want[k], 0, 1e-3 * maxAbs(want[keyWeight]), `${c.name} ${k}`);
        else expectNear(got[k], want[k], 1e-3, `${c.name} ${k}`);
      }
      zeroGrads(gpu);
      gpu.to('cpu');
      for (const [k, p] of handles) expect(p.device, k).toBe('cpu');
      expect(differences(c.run(gpu, 'cpu'), want)).toEqual([]);
      cpu.dispose();
      gpu.dispose();
    });
  }

  it('moves gradients with their parameters, values unchanged', () => {
    const unet = TINY_CASES[0].make(12);
    TINY_CASES[0].run(unet, 'cpu');
    const before = tidy(() => new Map([...unet.parameters()].map(([k, p]) => [k, Float32Array.from(p.grad!.toArray())])));
    unet.to('cuda');
    tidy(() => {
      for (const [k, p] of unet.parameters()) {
        const g = p.grad!;
        expect(g.device, k).toBe('cuda');
        expectNear(host(g), before.get(k)!, 0, k);
      }
    });
    unet.dispose();
  });

  it('takes a host timestep tensor with a cuda sample (as diffusers does)', () => {
    const unet = UNet.fromConfig('tiny', 13).to('cuda');
    tidy(() => {
      const rng = new Rng(14);
      const sample = rng.randn([2, 4, 8, 8]).to('cuda'), ctx = rng.randn([2, 8, 32]).to('cuda');
      const onHost = full([2], 321);
      const a = unet.forward(sample, onHost, ctx), b = unet.forward(sample, 321, ctx);
      expect(a.device).toBe('cuda');
      expectNear(host(a), host(b), 0, 'host vs device timestep');
    });
    unet.dispose();
  });
});
