// unet.test.ts: UNet2DConditionModel at the tiny config against the PyTorch peer (diffusers' names and
// topology): strict loading of the peer's weights, the noise prediction, weight and input gradients,
// gradient checkpointing, and the errors for bad configs, weights and inputs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { DIFFUSION_PRESETS, memoryStats, readSafetensors, Rng, tensor, Tensor, UNet } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';
import { errorOf } from '../helpers/error-of.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');
const tiny = DIFFUSION_PRESETS.tiny.unet;

function load(): { unet: UNet; io: Map<string, Tensor>; weights: Map<string, Tensor> } {
  const { tensors: weights } = readSafetensors(path.join(fixtures, 'unet_tiny_weights.safetensors'));
  const { tensors: io } = readSafetensors(path.join(fixtures, 'unet_tiny_io.safetensors'));
  const unet = UNet.fromConfig('tiny', 0);
  unet.loadStateDict(weights);
  return { unet, io, weights };
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

function message(fn: () => unknown): string {
  return errorOf(fn).message;
}

describe('UNet2DConditionModel', () => {
  it('has exactly the peer parameters (diffusers names and shapes), loaded strictly', () => {
    const { tensors: weights } = readSafetensors(path.join(fixtures, 'unet_tiny_weights.safetensors'));
    const unet = new UNet(tiny, 0);
    expect(new Set(unet.parameters().keys())).toEqual(new Set(weights.keys()));
    const report = unet.loadStateDict(weights, { strict: true });
    expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: weights.size });
    expect(unet.heads).toEqual([4, 4]);
  });

  it('predicts noise of the sample shape', () => {
    const unet = UNet.fromConfig('tiny', 3);
    const rng = new Rng(1);
    const out = unet.forward(rng.randn([3, 4, 16, 8]), 500, rng.randn([3, 5, 32]));
    expect(out.shape).toEqual([3, 4, 16, 8]);
    expect(out.dtype).toBe('float32');
  });

  it('reproduces the peer: noise prediction, weight and input gradients of sum(output)', () => {
    const { unet, io } = load();
    const sample = io.get('input.sample')!.requiresGrad_();
    const text = io.get('input.encoder_hidden_states')!.requiresGrad_();
    const out = unet.forward(sample, io.get('input.timestep')!, text);  // int32 timesteps, cast to float32
    expectPeer(out, io.get('output.sample')!, 'output.sample');
    out.sum().backward();
    const params = unet.parameters();
    const names = [...io.keys()].filter((k) => k.startsWith('grad.') && !k.startsWith('grad.input.'));
    expect(names.length).toBe(16);
    for (const k of names) expectPeer(params.get(k.slice('grad.'.length))!.grad!, io.get(k)!, k);
    expectPeer(sample.grad!, io.get('grad.input.sample')!, 'grad.input.sample');
    expectPeer(text.grad!, io.get('grad.input.encoder_hidden_states')!, 'grad.input.encoder_hidden_states');
    for (const [name, p] of params) expect(p.grad, `${name} is used`).not.toBeNull();
  });

  it('gives the same output and gradients under gradient checkpointing', () => {
    const { unet, io } = load();
    const runs = [false, true].map((checkpointing) => {
      for (const p of unet.parameters().values()) p.grad = null;
      const sample = io.get('input.sample')!.detach().requiresGrad_();
      const text = io.get('input.encoder_hidden_states')!.detach().requiresGrad_();
      const before = memoryStats().liveBytes;
      const out = unet.forward(sample, io.get('input.timestep')!, text, { checkpointing });
      const kept = memoryStats().liveBytes - before;  // the activations the graph holds for backward
      out.sum().backward();
      const grads = new Map([...unet.parameters()].map(([n, p]) => [n, p.grad!.toArray()]));
      grads.set('input.sample', sample.grad!.toArray());
      grads.set('input.encoder_hidden_states', text.grad!.toArray());
      return { out: out.toArray(), grads, kept };
    });
    expectClose(runs[1].out, runs[0].out, 0, 0, 'output');
    expect(runs[1].kept).toBeLessThan(0.5 * runs[0].kept);
    // The same numbers, summed in another order (a checkpointed block's gradients arrive separately).
    for (const [name, g] of runs[0].grads) {
      const scale = maxAbs(g);
      expectClose(runs[1].grads.get(name)!, g, 1e-5, 1e-6 * scale, name);
    }
  });
});

describe('UNet errors', () => {
  it('names a mis-shaped weight', () => {
    const { tensors: weights } = readSafetensors(path.join(fixtures, 'unet_tiny_weights.safetensors'));
    weights.set('down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight', tensor(new Float32Array(64 * 16), [64, 16]));
    const unet = new UNet(tiny, 0);
    const e = errorOf(() => unet.loadStateDict(weights));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toBe(
      "Expected weights matching the unet model's parameters but found: down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight: expected shape [64, 32] but received [64, 16]",
    );
  });

  it('checks its config before building, naming the field', () => {
    expect(message(() => new UNet({ ...tiny, cross_attn: [true] }))).toBe('Expected 2 entries (one per level) for config.cross_attn but received [true]');
    expect(message(() => new UNet({ ...tiny, heads: 5 }))).toBe('Expected channels divisible by config.heads (5) for config.block_out_channels[0] but received 32');
    expect(message(() => new UNet({ ...tiny, norm_num_groups: 24 }))).toBe(
      'Expected channels divisible by config.norm_num_groups (24) for config.block_out_channels[0] but received 32',
    );
    expect(message(() => new UNet({ ...tiny, head_dim: 8 }))).toBe('Expected exactly one of heads and head_dim for config but received "both"');
    expect(message(() => new UNet({ ...tiny, layers_per_block: 1.5 }))).toBe('Expected an integer for config.layers_per_block but received 1.5');
    expect(message(() => new UNet({ ...tiny, block_out_channels: [] }))).toBe('Expected at least 1 entries for config.block_out_channels but received []');
    expect(message(() => new UNet({ ...tiny, attention_head_dim: 8 } as never))).toBe(
      'Expected no unknown keys (attention_head_dim) for config but received ["attention_head_dim"]',
    );
    expect(message(() => UNet.fromConfig('sdxl' as never))).toBe('Expected one of tiny, bench, sd15 for config but received "sdxl"');
    expect(message(() => UNet.fromConfig({ unet: { ...tiny, in_channels: 0 } }))).toBe('Expected a value >= 1 for config.unet.in_channels but received 0');
  });

  it('reads head_dim per level and SDXL-style transformer depth', () => {
    const bench = UNet.fromConfig('bench', 0);
    expect(bench.heads).toEqual([2, 4, 4]);
    expect(bench.parameters().has('down_blocks.2.attentions.0.norm.weight')).toBe(false);  // cross_attn[2] false: DownBlock2D
    expect(bench.parameters().has('up_blocks.0.resnets.2.conv_shortcut.weight')).toBe(true);
    const deep = new UNet({ ...tiny, transformer_layers_per_block: [1, 2] }, 0);
    expect(deep.parameters().has('down_blocks.1.attentions.0.transformer_blocks.1.ff.net.2.bias')).toBe(true);
    expect(deep.parameters().has('down_blocks.0.attentions.0.transformer_blocks.1.norm1.weight')).toBe(false);
  });

  it('checks its inputs before the native call', () => {
    const unet = UNet.fromConfig('tiny', 0);
    const rng = new Rng(2);
    const x = rng.randn([2, 4, 8, 8]), ctx = rng.randn([2, 8, 32]);
    expect(message(() => unet.forward(rng.randn([2, 3, 8, 8]), 10, ctx))).toBe(
      'Expected shape [B, 4, h, w] with both sides divisible by 2 for sample but received [2, 3, 8, 8]',
    );
    expect(message(() => unet.forward(rng.randn([2, 4, 7, 8]), 10, ctx))).toBe(
      'Expected shape [B, 4, h, w] with both sides divisible by 2 for sample but received [2, 4, 7, 8]',
    );
    expect(message(() => unet.forward(x, 10, rng.randn([2, 8, 16])))).toBe('Expected shape [2, M, 32] for encoderHiddenStates but received [2, 8, 16]');
    expect(message(() => unet.forward(x, rng.randn([3]), ctx))).toBe('Expected shape [2] (or one element) for timestep but received [3]');
    expect(message(() => unet.forward(x, Number.NaN, ctx))).toBe('Expected a finite number or a Tensor for timestep but received NaN');
    const e = errorOf(() => unet.forward(x.to('float64'), 10, ctx));
    expect([e.code, e.message]).toEqual(['DTYPE', 'Expected a float32 tensor for sample but received float64']);
    // One timestep for the batch equals the same timestep per sample.
    const one = unet.forward(x, tensor([250]), ctx).toArray();
    expectClose(one, unet.forward(x, tensor([250, 250]), ctx).toArray(), 0, 0, 'broadcast timestep');
  });
});
