// blip.test.ts: the BLIP backbone (ViT + BERT with cross-attention) against the PyTorch peer at the tiny
// config: strict load of the peer's weights, image tokens and [CLS] features, weight and image gradients,
// checkpointing, and the input checks.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { readSafetensors, tensor, Tensor, tidy, TreeRewardError } from '../../src/index.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { BLIP_PRESETS, parseBlipConfig } from '../../src/models/blip-configs.js';
import { expectClose } from '../helpers/gradcheck.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');

/** Elementwise |a - b| <= rtol * max|b| (+ rtol * |b|): a tolerance relative to the tensor's scale. */
function expectNear(actual: Tensor, want: Tensor, rtol: number, what: string): number {
  expect(actual.shape, `${what}: shape`).toEqual(want.shape);
  const a = actual.toArray(), b = want.toArray();
  let scale = 0, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expectClose(a, b, rtol, rtol * scale, what);
  return worst / scale;
}

function peer(): { weights: Map<string, Tensor>; io: Map<string, Tensor> } {
  return {
    weights: readSafetensors(path.join(fixtures, 'blip_tiny_weights.safetensors')).tensors,
    io: readSafetensors(path.join(fixtures, 'blip_tiny_io.safetensors')).tensors,
  };
}

function loadedTiny(): { blip: BlipBackbone; io: Map<string, Tensor> } {
  const { weights, io } = peer();
  const blip = new BlipBackbone('tiny', 0);
  blip.loadStateDict(weights, { prefix: 'blip.' });
  return { blip, io };
}

describe('BLIP backbone', () => {
  it('names its parameters as BLIP does and loads the peer weights strictly', () => {
    const { weights } = peer();
    const blip = new BlipBackbone('tiny', 0);
    const names = [...blip.parameters().keys()];
    expect(names).toContain('visual_encoder.blocks.1.attn.qkv.weight');
    expect(names).toContain('text_encoder.encoder.layer.1.crossattention.output.LayerNorm.bias');
    expect(names.length).toBe(weights.size);
    const report = blip.loadStateDict(weights, { prefix: 'blip.' });
    expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: weights.size });
    blip.dispose();
  });

  it('reproduces the peer: image tokens and [CLS] features (tiny)', () => {
    const { blip, io } = loadedTiny();
    tidy(() => {
      const image = io.get('input.image')!, ids = io.get('input.input_ids')!, mask = io.get('input.attention_mask')!;
      const tokens = blip.encodeImage(image);
      const tokensErr = expectNear(tokens, io.get('output.image_tokens')!, 1e-4, 'image tokens');
      const feature = blip.forward(image, ids, mask);
      const featureErr = expectNear(feature, io.get('output.cls_feature')!, 1e-4, 'cls feature');
      const viaTokens = blip.encodeText(ids, mask, tokens);
      expect(Array.from(viaTokens.toArray())).toEqual(Array.from(feature.toArray()));
      console.log(`blip tiny vs peer: image tokens max rel err ${tokensErr.toExponential(2)}, cls feature ${featureErr.toExponential(2)}`);
    });
    blip.dispose();
  });

  it('reproduces the peer: gradients of sum(feature) for the exported weights and the image (tiny)', () => {
    const { blip, io } = loadedTiny();
    const params = blip.parameters();
    const image = io.get('input.image')!.clone().requiresGrad_();
    tidy(() => blip.forward(image, io.get('input.input_ids')!, io.get('input.attention_mask')!).sum().backward());
    let worst = 0, compared = 0;
    for (const [name, want] of io) {
      if (!name.startsWith('grad.')) continue;
      const got = name === 'grad.input.image' ? image.grad : params.get(name.slice('grad.blip.'.length))!.grad;
      expect(got, name).not.toBeNull();
      worst = Math.max(worst, expectNear(got!, want, 1e-3, name));
      compared++;
    }
    expect(compared).toBe(13);  // 12 weights and the image
    console.log(`blip tiny vs peer: ${compared} gradients, max rel err ${worst.toExponential(2)}`);
    blip.dispose();
  });

  it('gives the [PAD] embedding row no gradient, as nn.Embedding(padding_idx=0)', () => {
    const { blip, io } = loadedTiny();
    tidy(() => blip.forward(io.get('input.image')!, io.get('input.input_ids')!, io.get('input.attention_mask')!).sum().backward());
    const g = blip.parameters().get('text_encoder.embeddings.word_embeddings.weight')!.grad!;
    expect(Array.from(g.slice(0, 0, 1).contiguous().toArray()).every((v) => v === 0)).toBe(true);
    blip.dispose();
  });

  // The image tokens' gradient sums the cross-attention layers' contributions in another order when the
  // layers are checkpointed: the ViT's gradients agree to float32 rounding, the BERT's bit for bit.
  it('checkpointing gives identical features and the same gradients', () => {
    const { blip, io } = loadedTiny();
    const inputs = [io.get('input.image')!, io.get('input.input_ids')!, io.get('input.attention_mask')!] as const;
    const run = (checkpointing: boolean): { feature: number[]; grads: Map<string, number[]> } => {
      for (const p of blip.parameters().values()) p.grad = null;
      const feature = tidy(() => {
        const f = blip.forward(...inputs, { checkpointing });
        f.sum().backward();
        return Array.from(f.toArray());
      });
      const grads = new Map<string, number[]>();
      for (const [name, p] of blip.parameters()) grads.set(name, Array.from(p.grad!.toArray()));
      return { feature, grads };
    };
    const plain = run(false), ckpt = run(true);
    expect(ckpt.feature).toEqual(plain.feature);
    for (const [name, g] of plain.grads) {
      if (name.startsWith('text_encoder.')) expect(ckpt.grads.get(name), name).toEqual(g);
      else expectClose(ckpt.grads.get(name)!, g, 1e-6, 1e-6 * Math.max(...g.map(Math.abs)), name);
    }
    blip.dispose();
  });

  it('checks its config and inputs before any native call', () => {
    expect(() => new BlipBackbone('huge' as never)).toThrow('Expected a blip preset (one of tiny, bench, sd15) for config but received "huge"');
    const bad = { ...BLIP_PRESETS.tiny, image_size: 30 };
    expect(() => parseBlipConfig(bad)).toThrow('Expected a multiple of config.vit.patch (8) for config.image_size but received 30');
    expect(() => parseBlipConfig({ ...BLIP_PRESETS.tiny, vit: { ...BLIP_PRESETS.tiny.vit, heads: 0 } })).toThrow(
      'Expected a value >= 1 for config.vit.heads but received 0',
    );
    const blip = new BlipBackbone('tiny', 0);
    const image = tensor(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]);
    const ids = tensor(new Int32Array([101, 5, 0]), [1, 3], { dtype: 'int32' });
    const mask = tensor(new Int32Array([1, 1, 0]), [1, 3], { dtype: 'int32' });
    expect(() => blip.forward(tensor(new Float32Array(3 * 16 * 16), [1, 3, 16, 16]), ids, mask)).toThrow(
      'Expected a tensor of shape [B, 3, 32, 32] for image but received [1, 3, 16, 16]',
    );
    expect(() => blip.forward(image, tensor(new Int32Array([1000]), [1, 1], { dtype: 'int32' }), tensor([1], [1, 1]))).toThrow(
      'Expected token ids in [0, 1000) for ids[0][0] but received 1000',
    );
    expect(() => blip.forward(image, ids, tensor([1, 2, 0], [1, 3]))).toThrow('Expected a mask of 0 and 1 for mask[0][1] but received 2');
    let caught: unknown;
    try {
      blip.forward(image, ids.to('float32'), mask);
    } catch (e) {
      caught = e;
    }
    expect((caught as TreeRewardError).code).toBe('DTYPE');
    expect(blip.forward(image, ids, mask).shape).toEqual([1, 64]);
    blip.dispose();
  });
});
