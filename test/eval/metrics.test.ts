// metrics.test.ts: the evaluation's metrics on hand-made cases: the judges prefer an image's own
// prompt to an unrelated one; CLIP score arithmetic (max(100 cos, 0)) by hand and through a tiny
// random ClipModel; the LAION-layout aesthetic predictor against a hand computation; a reward
// model's own scores.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { DIMENSIONS, tensor, type RgbImage, type Tensor } from '../../src/index.js';
import { AestheticPredictor } from '../../src/eval/metrics/aesthetic.js';
import { ClipEncoder, clipScoreOf, clipScores, imageEmbeddings, textEmbeddings } from '../../src/eval/metrics/clip-score.js';
import { pixelsAt } from '../../src/eval/metrics/image-input.js';
import { judgeScores } from '../../src/eval/metrics/judge-scores.js';
import { rewardScores } from '../../src/eval/metrics/reward-scores.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { ClipModel } from '../../src/models/clip.js';
import type { RewardModel } from '../../src/reward/reward-model.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import { WorldGenerator } from '../../src/world/world-generator.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('judges on hand-made cases', () => {
  // Each prompt names every attribute; its partner differs in all of them.
  const cases = [
    ['a red star and a blue ring, striped style, warm palette, side lighting, rule-of-thirds layout, intricate detail',
      'a green square, flat style, cool palette, top lighting, centered layout, minimal detail'],
    ['a yellow heart, checkered style, pastel palette, spotlight, centered layout, minimal detail',
      'a purple triangle and an orange cross, wavy style, earthy palette, soft lighting, diagonal layout, intricate detail'],
    ['a cyan diamond and a magenta circle, hatched style, cool palette, top lighting, diagonal layout, moderate detail',
      'a lime ring, pinstriped style, warm palette, side lighting, rule-of-thirds layout, minimal detail'],
  ] as const;
  const world = new WorldGenerator();

  it('score an image higher against its own prompt than against an unrelated one', () => {
    const own: number[][] = [], other: number[][] = [];
    for (const [a, b] of cases) {
      for (const [p, q] of [[a, b], [b, a]] as const) {
        const image = world.render(p, 3).image;
        own.push(judgeScores(image, p));
        other.push(judgeScores(image, q));
      }
    }
    // every image: the six judges together prefer the image's own prompt
    own.forEach((o, i) => expect(o.reduce((s, x) => s + x, 0)).toBeGreaterThan(other[i]!.reduce((s, x) => s + x, 0)));
    // every named dimension, on average over the images
    DIMENSIONS.forEach((d, k) => {
      const mine = own.reduce((s, o) => s + o[k]!, 0), theirs = other.reduce((s, o) => s + o[k]!, 0);
      expect(mine, d).toBeGreaterThan(theirs);
    });
    // scores are in [0, 1]
    for (const v of [...own.flat(), ...other.flat()]) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('CLIP score', () => {
  it('is max(100 cos, 0) per row, whatever the rows\' lengths', () => {
    const s = clipScoreOf(
      [1, 0, 0, /**/ 1, 0, 0, /**/ 1, 0, 0, /**/ 2, 0, 0, /**/ 3, 4, 0],
      [3, 0, 0, /**/ 0, 5, 0, /**/ -1, 0, 0, /**/ 1, Math.sqrt(3), 0, /**/ 0, 0, 0],
      3,
    );
    expect(s[0]).toBeCloseTo(100, 10); // same direction
    expect(s[1]).toBe(0); // orthogonal
    expect(s[2]).toBe(0); // opposite: cos = -1, clamped to 0
    expect(s[3]).toBeCloseTo(50, 10); // 60 degrees
    expect(s[4]).toBe(0); // a zero vector has no direction
    expect(() => clipScoreOf([1, 2], [1, 2, 3], 2)).toThrow('Expected two (B, 2) embeddings of one shape for a and b but received 2 and 3 values');
  });

  it('through a tiny random ClipModel: the scores are the arithmetic of its embeddings, and agree with ClipModel.clipScore', async () => {
    const prompts = ['a red star', 'a blue ring', 'a green square and a red star'];
    const tok = WordTokenizer.fromWords(wordsOf(prompts), { maxLength: 16 });
    const model = new ClipModel('tiny', 3);
    const encoder = new ClipEncoder(model, tok);
    const world = new WorldGenerator();
    const images = await world.generate(prompts, [1, 2, 3]);
    const scores = await clipScores(encoder, prompts, images);
    const img = await imageEmbeddings(encoder, images);
    const txt = textEmbeddings(encoder, prompts);
    expect(img.width).toBe(16);
    expect(scores).toEqual(clipScoreOf(img.values, txt.values, img.width));
    for (const s of scores) expect(s >= 0 && s <= 100).toBe(true);
    // the same from the model's own CLIP score (64 px images resized to 16 by the metric first)
    const pixels = await pixelsAt(images, 16);
    const { normalizeImage } = await import('../../src/models/image-normalize.js');
    const { batchToTensors } = await import('../../src/tokenizers/tensors.js');
    const { ids, mask } = batchToTensors(tok.encode(prompts, { maxLength: 16 }));
    const direct = Array.from(model.clipScore(normalizeImage(pixels), ids, { mask }).toArray());
    direct.forEach((v, i) => expect(scores[i]).toBeCloseTo(v, 3));
    model.dispose();
  });
});

describe('aesthetic score', () => {
  it("loads the LAION predictor's layout (layers.{0,2,4,6,7}) and scores by its linear layers", () => {
    // widths 4 -> 3 -> 3 -> 2 -> 2 -> 1, weights chosen by hand
    const shapes: [string, number, number][] = [['layers.0', 3, 4], ['layers.2', 3, 3], ['layers.4', 2, 3], ['layers.6', 2, 2], ['layers.7', 1, 2]];
    const weights = new Map<string, Tensor>();
    const mats: { w: number[][]; b: number[] }[] = [];
    shapes.forEach(([name, out, inp], l) => {
      const w = Array.from({ length: out }, (_, i) => Array.from({ length: inp }, (_, j) => ((i + 1) * (j + 2) * (l + 1)) % 5 / 4 - 0.3));
      const b = Array.from({ length: out }, (_, i) => 0.1 * (i - l));
      mats.push({ w, b });
      weights.set(`${name}.weight`, tensor(w.flat(), [out, inp]));
      weights.set(`${name}.bias`, tensor(b, [out]));
    });
    const file = join(dir, 'aesthetic.safetensors');
    writeSafetensors(file, weights);
    const predictor = AestheticPredictor.fromSafetensors(file);
    expect(predictor.embedDim).toBe(4);
    const x = [[0.5, -0.5, 0.5, 0.5], [1, 0, 0, 0]];
    const got = Array.from(predictor.score(tensor(x.flat(), [2, 4])).toArray());
    const want = x.map((row) => mats.reduce((v, { w, b }) => w.map((r, i) => r.reduce((s, wij, j) => s + wij * v[j]!, b[i]!)), row)[0]!);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
    predictor.dispose();
  });

  it('says which names it expected when the file is not the predictor', () => {
    const file = join(dir, 'other.safetensors');
    writeSafetensors(file, new Map([['fc.weight', tensor([1, 2], [1, 2])]]));
    expect(() => AestheticPredictor.fromSafetensors(file)).toThrow(`Expected layers.0.weight of shape [1024, D] in ${file} but it has none`);
  });
});

describe("a reward model's own scores", () => {
  const grey = (v: number): RgbImage => ({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(v) });
  const brightness: RewardModel = {
    name: 'brightness', imageSize: 8,
    score: (_p: string[], images: Tensor) => ({ reward: images.mean([1, 2, 3]), leafScores: images.mean([2, 3]), leaves: ['r', 'g', 'b'] }),
    parameters: () => new Map(), dispose: () => {},
  };

  it('are read per image, with the leaves where the model has them, across batches', () => {
    const s = rewardScores(brightness, ['a', 'b', 'c'], [grey(0), grey(255), grey(51)], 2);
    expect(s.reward.map((x) => Number(x.toFixed(4)))).toEqual([0, 1, 0.2]);
    expect(Object.keys(s.leaves!)).toEqual(['r', 'g', 'b']);
    expect(s.leaves!.g!.map((x) => Number(x.toFixed(4)))).toEqual([0, 1, 0.2]);
  });
});
