// vae.test.ts: AutoencoderKL at the tiny config against the PyTorch peer (diffusers' names and topology):
// strict loading, encode and decode, their weight and input gradients, gradient checkpointing, the
// posterior sample, and the errors for bad configs, weights and inputs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { AutoencoderKL, DIFFUSION_PRESETS, F, memoryStats, readSafetensors, Rng, tensor, Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';
import { errorOf } from '../helpers/error-of.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');
const tiny = DIFFUSION_PRESETS.tiny.vae;

function load(): { vae: AutoencoderKL; io: Map<string, Tensor> } {
  const { tensors: weights } = readSafetensors(path.join(fixtures, 'vae_tiny_weights.safetensors'));
  const { tensors: io } = readSafetensors(path.join(fixtures, 'vae_tiny_io.safetensors'));
  const vae = AutoencoderKL.fromConfig('tiny', 0);
  vae.loadStateDict(weights);
  return { vae, io };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Float32 results against the peer: every element within rtol of itself, or 1e-5 of the largest. */
function expectPeer(actual: Tensor, expected: Tensor, what: string, rtol = 1e-4): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const want = expected.toArray();
  const scale = maxAbs(want);
  expectClose(actual.toArray(), want, rtol, 1e-5 * scale, what);
}

describe('AutoencoderKL', () => {
  it('has exactly the peer parameters (diffusers names and shapes), loaded strictly', () => {
    const { tensors: weights } = readSafetensors(path.join(fixtures, 'vae_tiny_weights.safetensors'));
    const vae = new AutoencoderKL(tiny, 0);
    expect(new Set(vae.parameters().keys())).toEqual(new Set(weights.keys()));
    expect(vae.loadStateDict(weights)).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: weights.size });
    expect(vae.scalingFactor).toBe(0.18215);
    expect(new AutoencoderKL({ ...tiny, scaling_factor: undefined }).scalingFactor).toBe(0.18215);
  });

  it('encodes to moments and decodes to images of the expected shapes', () => {
    const vae = AutoencoderKL.fromConfig('tiny', 1);
    const rng = new Rng(3);
    expect(vae.encode(rng.randn([3, 3, 16, 32])).shape).toEqual([3, 8, 8, 16]);
    expect(vae.decode(rng.randn([1, 4, 5, 6])).shape).toEqual([1, 3, 10, 12]);
  });

  it('reproduces the peer: decode, encode, weight and input gradients of sum(decoded) + sum(moments)', () => {
    const { vae, io } = load();
    const latents = io.get('input.latents')!.requiresGrad_();
    const image = io.get('input.image')!.requiresGrad_();
    const decoded = vae.decode(latents);
    const moments = vae.encode(image);
    expectPeer(decoded, io.get('output.decoded')!, 'output.decoded');
    expectPeer(moments, io.get('output.moments')!, 'output.moments');
    decoded.sum().add(moments.sum()).backward();
    const params = vae.parameters();
    const names = [...io.keys()].filter((k) => k.startsWith('grad.') && !k.startsWith('grad.input.'));
    expect(names.length).toBe(12);
    for (const k of names) expectPeer(params.get(k.slice('grad.'.length))!.grad!, io.get(k)!, k);
    expectPeer(latents.grad!, io.get('grad.input.latents')!, 'grad.input.latents');
    expectPeer(image.grad!, io.get('grad.input.image')!, 'grad.input.image');
    for (const [name, p] of params) expect(p.grad, `${name} is used`).not.toBeNull();
  });

  it('gives the same decode and gradients under gradient checkpointing, keeping fewer activations', () => {
    const { vae, io } = load();
    const runs = [false, true].map((checkpointing) => {
      for (const p of vae.parameters().values()) p.grad = null;
      const latents = io.get('input.latents')!.detach().requiresGrad_();
      const before = memoryStats().liveBytes;
      const out = vae.decode(latents, { checkpointing });
      const kept = memoryStats().liveBytes - before;
      out.sum().backward();
      const grads = new Map([...vae.parameters()].filter(([n]) => n.startsWith('decoder.')).map(([n, p]) => [n, p.grad!.toArray()]));
      grads.set('input.latents', latents.grad!.toArray());
      return { out: out.toArray(), grads, kept };
    });
    expectClose(runs[1].out, runs[0].out, 0, 0, 'decoded');
    expect(runs[1].kept).toBeLessThan(0.5 * runs[0].kept);
    for (const [name, g] of runs[0].grads) {
      const scale = maxAbs(g);
      expectClose(runs[1].grads.get(name)!, g, 1e-5, 1e-6 * scale, name);
    }
  });

  it('samples the posterior with gradient to the moments; the mode is the mean', () => {
    const vae = AutoencoderKL.fromConfig('tiny', 0);
    const mean = new Rng(4).randn([2, 4, 3, 3]);
    const logvar = tensor(new Float32Array(2 * 4 * 9).fill(Math.log(0.25)), [2, 4, 3, 3]);  // std 0.5
    const moments = F.concat([mean, logvar], 1).requiresGrad_();
    const z = vae.sample(moments, new Rng(7));
    const noise = new Rng(7).randn([2, 4, 3, 3]);
    expectClose(z.toArray(), mean.add(noise.mul(0.5)).toArray(), 1e-6, 1e-6, 'z = mean + std * noise');
    z.sum().backward();
    const g = moments.grad!;
    expectClose(g.slice(1, 0, 4).contiguous().toArray(), new Float32Array(72).fill(1), 0, 0, 'dz/dmean');
    expectClose(g.slice(1, 4, 8).contiguous().toArray(), noise.mul(0.25).toArray(), 1e-6, 1e-6, 'dz/dlogvar = std / 2 * noise');
    expectClose(vae.mode(moments).contiguous().toArray(), mean.toArray(), 0, 0, 'mode');
  });
});

describe('AutoencoderKL errors', () => {
  it('names a mis-shaped weight', () => {
    const { tensors: weights } = readSafetensors(path.join(fixtures, 'vae_tiny_weights.safetensors'));
    weights.set('decoder.mid_block.attentions.0.to_q.bias', tensor(new Float32Array(32), [32]));
    const e = errorOf(() => new AutoencoderKL(tiny, 0).loadStateDict(weights));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe(
      "Expected weights matching the vae model's parameters but found: decoder.mid_block.attentions.0.to_q.bias: expected shape [64] but received [32]",
    );
  });

  it('checks its config before building, naming the field', () => {
    const message = (fn: () => unknown) => errorOf(fn).message;
    expect(message(() => new AutoencoderKL({ ...tiny, norm_num_groups: 5 }))).toBe(
      'Expected channels divisible by config.norm_num_groups (5) for config.block_out_channels[0] but received 32',
    );
    expect(message(() => new AutoencoderKL({ ...tiny, scaling_factor: -1 }))).toBe('Expected a value > 0 for config.scaling_factor but received -1');
    expect(message(() => new AutoencoderKL({ ...tiny, latent_channels: '4' } as never))).toBe('Expected a number for config.latent_channels but received "4"');
    expect(message(() => AutoencoderKL.fromConfig({ vae: { ...tiny, layers_per_block: 0 } }))).toBe(
      'Expected a value >= 1 for config.vae.layers_per_block but received 0',
    );
    expect(message(() => AutoencoderKL.fromConfig(42 as never))).toBe('Expected a preset name or a vae config object for config but received 42');
  });

  it('checks its inputs before the native call', () => {
    const vae = AutoencoderKL.fromConfig('tiny', 0);
    const rng = new Rng(5);
    const message = (fn: () => unknown) => errorOf(fn).message;
    expect(message(() => vae.encode(rng.randn([1, 3, 15, 16])))).toBe(
      'Expected shape [B, 3, H, W] with both sides divisible by 2 for image but received [1, 3, 15, 16]',
    );
    expect(message(() => vae.decode(rng.randn([1, 8, 4, 4])))).toBe('Expected shape [B, 4, h, w] for latents but received [1, 8, 4, 4]');
    expect(message(() => vae.decode(rng.randn([4, 4, 4])))).toBe('Expected shape [B, 4, h, w] for latents but received [4, 4, 4]');
    expect(message(() => vae.sample(rng.randn([1, 4, 4, 4]), rng))).toBe('Expected shape [B, 8, h, w] for moments but received [1, 4, 4, 4]');
    expect(message(() => vae.sample(rng.randn([1, 8, 4, 4]), {} as never))).toBe('Expected an Rng for rng but received an object');
    expect(message(() => vae.mode(rng.randn([1, 8, 4, 4]).to('float64')))).toBe('Expected a float32 tensor for moments but received float64');
    expect(message(() => vae.decode(rng.randn([1, 4, 4, 4]), { checkpointing: 1 as never }))).toBe(
      'Expected a boolean for options.checkpointing but received 1',
    );
  });
});
