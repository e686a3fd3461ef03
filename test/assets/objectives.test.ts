// objectives.test.ts: the parts the world's pretraining is built from. BLIP's text mode (the text
// encoder with cross-attention skipped) against the multimodal pass with the cross-attention's
// output zeroed; retrieval R@1, Spearman and hard-negative draws on known inputs; edited captions
// wrong in exactly one attribute; training data deterministic and free of benchmark prompts.
import { describe, expect, it } from 'vitest';

import { F, noGrad, tensor, tidy, zeros } from '../../src/api/index.js';
import { drawHardNegatives, retrievalAt1, spearman } from '../../src/assets/contrastive.js';
import { heldOutSet, trainingExample } from '../../src/assets/scene-data.js';
import { editedCaption, fullCaption, worldTokenizer } from '../../src/assets/world-text.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { isBenchmarkPrompt } from '../../src/world/benchmark.js';
import { Rng } from '../../src/world/random.js';
import { sampleScene } from '../../src/world/scene.js';

describe("BLIP's text mode", () => {
  it('is the multimodal pass without cross-attention, and gives cross-attention no gradient', () => {
    const blip = new BlipBackbone('tiny', 3);
    const ids = tensor([[1, 5, 9, 2, 0], [1, 7, 2, 0, 0]], undefined, { dtype: 'int32' });
    const mask = tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]);
    const image = tidy(() => F.concat([zeros([1, 3, 32, 32]), zeros([1, 3, 32, 32]).add(0.5)], 0));
    const text = blip.encodeTextUnimodal(ids, mask);
    expect(text.shape).toEqual([2, 64]);
    const multi = noGrad(() => blip.forward(image, ids, mask));
    expect(Math.max(...Array.from(multi.toArray(), (v, i) => Math.abs(v - text.toArray()[i])))).toBeGreaterThan(1e-2);

    text.sum().backward();
    const params = blip.parameters();
    expect(params.get('text_encoder.encoder.layer.0.crossattention.self.query.weight')!.grad).toBeNull();
    expect(params.get('text_encoder.encoder.layer.0.attention.self.query.weight')!.grad).not.toBeNull();
    expect(params.get('visual_encoder.patch_embed.proj.weight')!.grad).toBeNull();

    // Cross-attention adds output.dense(attn) before its post-norm; zeroed, the post-norm of an
    // already normalised row leaves it (nearly) as it was: the multimodal pass becomes text mode.
    noGrad(() => {
      const zeroedDense = [...params].filter(([name]) => /crossattention\.output\.dense\./.test(name)).map(([name, p]) => [name, zeros(p.shape)] as const);
      blip.model.loadStateDict(new Map(zeroedDense), { strict: false });
      const zeroed = blip.encodeText(ids, mask, blip.encodeImage(image));
      const t = text.toArray(), z = zeroed.toArray();
      for (let i = 0; i < t.length; i++) expect(Math.abs(z[i] - t[i])).toBeLessThan(1e-3);
    });
    blip.dispose();
  });
});

describe('contrastive helpers', () => {
  it('counts R@1 both ways, ties against', () => {
    // images 0 and 1 find their captions, image 2 prefers caption 0 (and ties caption 1); caption 0 prefers image 2, caption 2 ties images 1 and 2
    const sim = [0.9, 0.1, 0.2, 0.0, 0.8, 0.5, 0.95, 0.5, 0.5];
    expect(retrievalAt1(sim, 3)).toEqual({ n: 3, imageToText: 2 / 3, textToImage: 1 / 3, chance: 1 / 3 });
  });

  it('ranks like Spearman, with ties averaged', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 12);
  });

  it('draws hard negatives among the allowed columns, the most similar most often', () => {
    const B = 4, sim = [0, 5, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 0];
    const rng = new Rng(7);
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 200; k++) {
      const picks = drawHardNegatives(sim, B, (i, j) => !(i === 3 && j !== 0), rng);
      expect(picks[1]).not.toBe(1);
      expect(picks[3]).toBe(0);
      counts[picks[0]]++;
    }
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBeGreaterThan(190); // e^5 against 1 + 1
    expect(drawHardNegatives([0], 1, () => true, rng)).toEqual([-1]);
  });
});

describe('world captions and data', () => {
  it('edits exactly one attribute of a caption', () => {
    const scene = sampleScene(11);
    const caption = fullCaption(scene);
    const clauses = caption.split(', ');
    for (const dim of ['style', 'color', 'lighting', 'layout', 'detail'] as const) {
      const edited = editedCaption(scene, dim, new Rng(5)).split(', ');
      expect(edited.filter((c, i) => c !== clauses[i]), dim).toHaveLength(1);
    }
    const content = editedCaption(scene, 'content', new Rng(5));
    expect(content.split(', ').slice(1)).toEqual(clauses.slice(1));
    expect(content).not.toBe(caption);
  });

  it('draws training examples deterministically, never a benchmark prompt, all in the vocabulary', () => {
    const tok = worldTokenizer();
    const a = trainingExample(3, 17, 32), b = trainingExample(3, 17, 32);
    expect(a.caption).toBe(b.caption);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    for (let i = 0; i < 40; i++) {
      const e = trainingExample(0, i, 16);
      expect(isBenchmarkPrompt(e.caption)).toBe(false);
      expect(tok.tokenize(e.caption)).not.toContain('[UNK]');
    }
    const held = heldOutSet(0, 4, 16);
    expect(held.map((h) => h.caption)).toEqual(held.map((h) => fullCaption(h.scene)));
    expect(held.every((h) => Object.keys(h.severity).length === 0)).toBe(true);
  });
});
