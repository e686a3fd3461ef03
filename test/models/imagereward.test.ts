// imagereward.test.ts: ImageRewardScorer on a tiny synthetic checkpoint in ImageReward's own key layout
// ('blip.*', 'mlp.layers.{0,2,4,6,7}.*', plus the entries the score ignores), written by the test: the
// score equals BLIP's [CLS] feature through the head's five Linear layers, normalised.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { arange, F, Rng, tensor, Tensor, tidy, writeSafetensors } from '../../src/index.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { CLIP_MEAN, CLIP_STD, normalizeImage } from '../../src/models/image-normalize.js';
import { IMAGEREWARD_HEAD_DIMS, IMAGEREWARD_MEAN, IMAGEREWARD_STD, ImageRewardScorer } from '../../src/models/imagereward.js';
import { withPrefix } from '../../src/models/weights.js';
import { expectClose } from '../helpers/gradcheck.js';

const dir = mkdtempSync(path.join(tmpdir(), 'imagereward-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD_INDEX = [0, 2, 4, 6, 7];  // ImageReward's nn.Sequential indices of its five Linear layers

/** A tiny ImageReward checkpoint in the released layout, from a seeded BLIP and a random head. */
function syntheticCheckpoint(): Map<string, Tensor> {
  const blip = new BlipBackbone('tiny', 7);
  const ckpt = withPrefix(new Map([...blip.parameters()].map(([k, v]) => [k, v.detach().clone()])), 'blip.');
  blip.dispose();
  const rng = new Rng(11);
  const dims = [64, ...IMAGEREWARD_HEAD_DIMS];
  HEAD_INDEX.forEach((at, i) => {
    ckpt.set(`mlp.layers.${at}.weight`, rng.randn([dims[i + 1], dims[i]]).mul(1 / Math.sqrt(dims[i])));
    ckpt.set(`mlp.layers.${at}.bias`, rng.randn([dims[i + 1]]).mul(0.1));
  });
  ckpt.set('blip.text_encoder.embeddings.position_ids', arange(0, 64, 1, { dtype: 'int32' }).reshape([1, 64]));
  ckpt.set('blip.vision_proj.weight', rng.randn([16, 64]));
  ckpt.set('blip.vision_proj.bias', rng.randn([16]));
  ckpt.set('blip.text_proj.weight', rng.randn([16, 64]));
  ckpt.set('blip.text_proj.bias', rng.randn([16]));
  return ckpt;
}

function inputs(): { image: Tensor; ids: Tensor; mask: Tensor } {
  const rng = new Rng(3);
  const pixels = rng.rand([2, 3, 32, 32]);
  return {
    image: normalizeImage(pixels),
    ids: tensor(new Int32Array([101, 7, 99, 512, 102, 0, 101, 44, 102, 0, 0, 0]), [2, 6], { dtype: 'int32' }),
    mask: tensor(new Int32Array([1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]), [2, 6], { dtype: 'int32' }),
  };
}

describe('ImageReward scorer', () => {
  it("uses ImageReward's constants", () => {
    expect(IMAGEREWARD_MEAN).toBe(0.16717362830052426);
    expect(IMAGEREWARD_STD).toBe(1.0333394966054072);
    expect([...IMAGEREWARD_HEAD_DIMS]).toEqual([1024, 128, 64, 16, 1]);
    expect([...CLIP_MEAN]).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect([...CLIP_STD]).toEqual([0.26862954, 0.26130258, 0.27577711]);
  });

  it('loads a checkpoint in the released layout and scores as BLIP + head + normalisation', () => {
    const ckpt = syntheticCheckpoint();
    const file = path.join(dir, 'imagereward_tiny.safetensors');
    writeSafetensors(file, ckpt);
    const scorer = ImageRewardScorer.fromSafetensors(file, 'tiny');
    const reference = new BlipBackbone('tiny', 0);
    reference.loadStateDict(ckpt, { prefix: 'blip.', strict: false });
    tidy(() => {
      const { image, ids, mask } = inputs();
      const score = scorer.score(image, ids, mask);
      expect(score.shape).toEqual([2]);
      // by hand: feature -> five Linear layers, no activations -> (r - mean) / std
      let h = reference.forward(image, ids, mask);
      for (const at of HEAD_INDEX) h = F.linear(h, ckpt.get(`mlp.layers.${at}.weight`)!, ckpt.get(`mlp.layers.${at}.bias`)!);
      const want = Array.from(h.toArray(), (r) => (r - IMAGEREWARD_MEAN) / IMAGEREWARD_STD);
      expectClose(score.toArray(), want, 1e-5, 1e-6, 'ImageReward score');
      expectClose(scorer.rawScore(image, ids, mask).toArray(), h.toArray(), 1e-5, 1e-6, 'raw score');
    });
    scorer.dispose();
    reference.dispose();
  });

  it('reports what it ignored and loaded', () => {
    const ckpt = syntheticCheckpoint();
    const scorer = new ImageRewardScorer('tiny');
    const report = scorer.loadStateDict(ckpt);
    expect(report.ignored.sort()).toEqual([
      'blip.text_encoder.embeddings.position_ids', 'blip.text_proj.bias', 'blip.text_proj.weight', 'blip.vision_proj.bias', 'blip.vision_proj.weight',
    ]);
    expect(report.unexpected).toEqual([]);
    expect(report.head).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: 10 });
    expect(report.blip.loaded).toBe(scorer.blip.parameters().size);
    scorer.dispose();
  });

  it('refuses a checkpoint with foreign or missing entries, copying nothing', () => {
    const scorer = new ImageRewardScorer('tiny');
    const before = Array.from(scorer.blip.parameters().get('visual_encoder.norm.weight')!.toArray());
    const foreign = syntheticCheckpoint();
    foreign.set('tree.leaves.content.layers.0.weight', tensor([1], [1]));
    expect(() => scorer.loadStateDict(foreign)).toThrow(
      "Expected an ImageReward checkpoint ('blip.*', 'mlp.*') but found 1 other entries (tree.leaves.content.layers.0.weight)",
    );
    const noLast = syntheticCheckpoint();
    noLast.delete('mlp.layers.7.bias');
    expect(() => scorer.loadStateDict(noLast)).toThrow("Expected weights matching the mlp model's parameters but found: missing 1 (layers.8.bias)");
    expect(Array.from(scorer.blip.parameters().get('visual_encoder.norm.weight')!.toArray())).toEqual(before);
    scorer.dispose();
  });

  it('is differentiable with respect to the pixels', () => {
    const scorer = new ImageRewardScorer('tiny');
    scorer.loadStateDict(syntheticCheckpoint());
    const { ids, mask } = inputs();
    const pixels = new Rng(5).rand([2, 3, 32, 32]).requiresGrad_();
    tidy(() => scorer.score(normalizeImage(pixels), ids, mask).sum().backward());
    const g = pixels.grad!.toArray();
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g.some((v) => v !== 0)).toBe(true);
    scorer.dispose();
  });
});
