// baselines.test.ts: the one-head and decoupled baselines train and score; the evaluation protocol
// (ties skipped, predicted ties wrong) on hand-made cases.
import { describe, expect, it } from 'vitest';

import { type Tensor } from '../../src/index.js';
import type { RgbImage } from '../../src/api/interfaces.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { ArrayPairSource } from '../../src/reward/array-pair-source.js';
import { DecoupledReward, onlyDimension, trainDecoupled } from '../../src/reward/decouple.js';
import { pairwiseAccuracy } from '../../src/reward/evaluate.js';
import { imagesToTensor } from '../../src/reward/preprocess.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import type { RewardModel } from '../../src/reward/reward-model.js';
import { SingleHeadReward, trainSingleHead } from '../../src/reward/single-head.js';
import type { TrainingPair } from '../../src/reward/pair-source.js';

const grey = (v: number): RgbImage => ({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(v) });
const pair = (dimension: string, w: number, l: number, tie = false): TrainingPair => ({ dimension, tie, winner: { prompt: 'a star', image: grey(w) }, loser: { prompt: 'a star', image: grey(l) } });

/** Reward = mean brightness (a model that prefers brighter images). */
const brightness: RewardModel = {
  name: 'brightness', imageSize: 32,
  score: (_p: string[], images: Tensor) => ({ reward: images.mean([1, 2, 3]) }),
  parameters: () => new Map(), dispose: () => {},
};

describe('evaluation protocol', () => {
  it('skips labelled ties, counts predicted ties as wrong, reports per dimension and overall', () => {
    const pairs = [pair('lighting', 200, 100), pair('lighting', 100, 200), pair('lighting', 150, 150), pair('color', 90, 10), pair('color', 5, 5, true)];
    const r = pairwiseAccuracy(brightness, pairs);
    expect(r.perDimension.lighting).toEqual({ accuracy: 1 / 3, pairs: 3 });
    expect(r.perDimension.color).toEqual({ accuracy: 1, pairs: 1 });
    expect(r.mean).toBeCloseTo((1 / 3 + 1) / 2);
    expect(r.overall).toBeCloseTo(2 / 4);
    expect(r.pairs).toBe(4);
  });
});

describe('baselines (tiny)', () => {
  const tok = WordTokenizer.fromWords(['a', 'star']);
  const pairs = Array.from({ length: 64 }, (_, i) => pair(i % 2 ? 'lighting' : 'color', 120 + (i % 7) * 15, 40 + (i % 5) * 10));

  it('data-scale: one head learns "brighter wins" from pairs of all dimensions', async () => {
    const m = new SingleHeadReward({ name: 'data-scale', backbone: new BlipBackbone('tiny', 3), tokenizer: tok, hidden: [32, 16, 8] });
    const before = pairwiseAccuracy(m, pairs).overall;
    const r = await trainSingleHead(m, new ArrayPairSource(pairs, 1), { steps: 30, batchSize: 8, lr: 3e-3, freezeFraction: 0 });
    expect(r.losses.length).toBe(30);
    const after = pairwiseAccuracy(m, pairs).overall;
    expect(after).toBeGreaterThanOrEqual(0.9);
    expect(after).toBeGreaterThanOrEqual(before);
    expect([...m.parameters().keys()].some((k) => k.startsWith('mlp.layers.0'))).toBe(true);
  });

  it('decouple: one model per dimension, averaged; leaf scores per dimension', async () => {
    const members = new Map(['color', 'lighting'].map((d, i) => [d, new SingleHeadReward({ name: d, backbone: new BlipBackbone('tiny', 10 + i), tokenizer: tok, hidden: [32, 16, 8] })]));
    const dec = new DecoupledReward(members);
    const src = new ArrayPairSource(pairs, 2);
    const losses = await trainDecoupled(dec, (d) => onlyDimension(src, d), { steps: 3, batchSize: 8, lr: 1e-3, freezeFraction: 0 });
    expect(Object.keys(losses)).toEqual(['color', 'lighting']);
    const out = dec.score(['a star', 'a star'], imagesToTensor([grey(10), grey(200)]));
    expect(out.leafScores!.shape).toEqual([2, 2]);
    expect(out.leaves).toEqual(['color', 'lighting']);
    const mean = out.leafScores!.mean(1).toArray();
    expect(Array.from(out.reward.toArray())).toEqual(Array.from(mean));
  });
});
