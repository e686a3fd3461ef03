// train.test.ts: random-sample-ensemble training of the tree reward on world pairs (tiny BLIP):
// the loss falls, runs are deterministic, and held-out pairs are ranked above chance.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { buildInfo, noGrad, tidy } from '../../src/index.js';
import { buildWorldPairs } from '../../src/data/strategies/build-world-pairs.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { ArrayPairSource } from '../../src/reward/array-pair-source.js';
import { imagesToTensor } from '../../src/reward/preprocess.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import { trainTreeReward } from '../../src/reward/train-tree.js';
import { TreeReward } from '../../src/reward/tree-reward.js';
import { DEFAULT_TREE, resolveTree } from '../../src/reward/tree-spec.js';

describe('tree reward training (tiny)', async () => {
  const pairs = await buildWorldPairs({ pairs: 360, seed: 11, expert: { flipRate: 0, tieBand: 0 } });
  // pairs come grouped by dimension: hold out every sixth one so every dimension is in both sets
  const train = pairs.filter((_, i) => i % 6 !== 0), held = pairs.filter((_, i) => i % 6 === 0);
  const words = wordsOf(pairs.flatMap((p) => [p.preferred.prompt, p.rejected.prompt]));
  const make = () =>
    new TreeReward({
      backbone: new BlipBackbone('tiny', 1),
      tree: resolveTree({ ...DEFAULT_TREE, nodeHidden: 32, leafHidden: [32, 16, 8] }),
      tokenizer: WordTokenizer.fromWords(words),
      seed: 2,
    });

  it('is deterministic for a seed', async () => {
    const losses = async () => (await trainTreeReward(make(), ArrayPairSource.fromRecords(train, 5), { steps: 6, batchSize: 8, lr: 3e-3, freezeFraction: 0 })).losses;
    const a = await losses();
    expect(await losses()).toEqual(a);
  });

  it("trains with precision 'bf16-mixed': the products in bf16, the weights float32, every loss within 1% of float32's", async () => {
    const run = async (precision: 'float32' | 'bf16-mixed') => {
      const model = make();
      const r = await trainTreeReward(model, ArrayPairSource.fromRecords(train, 5), { steps: 30, batchSize: 16, lr: 3e-3, freezeFraction: 0, precision });
      return { losses: r.losses, dtypes: new Set([...model.parameters().values()].map((p) => p.dtype)) };
    };
    const f32 = await run('float32'), mixed = await run('bf16-mixed');
    expect([...mixed.dtypes]).toEqual(['float32']);
    // the same batches from the same weights: every step's loss within bf16 rounding of float32's (measured:
    // at most 0.001 apart over the 30 steps), so the run trains as the float32 one does
    const dev = Math.max(...mixed.losses.map((l, i) => Math.abs(l - f32.losses[i]) / f32.losses[i]));
    expect(dev).toBeLessThan(0.01);
    if (buildInfo().bf16) expect(mixed.losses).not.toEqual(f32.losses);
    await expect(trainTreeReward(make(), ArrayPairSource.fromRecords(train, 5), { steps: 1, precision: 'fp8' as 'float32' })).rejects.toThrow(
      "Expected 'float32' or 'bf16-mixed' for precision",
    );
  });

  it('resumes after a kill with the same next losses', async () => {
    const dirA = mkdtempSync(path.join(os.tmpdir(), 'tree-a-')), dirB = mkdtempSync(path.join(os.tmpdir(), 'tree-b-'));
    const opts = { steps: 6, batchSize: 8, lr: 3e-3, freezeFraction: 0.5, checkpointEvery: 3 };
    const straight = await trainTreeReward(make(), ArrayPairSource.fromRecords(train, 5), { ...opts, checkpointDir: dirA });
    const killer = new AbortController();
    const first = await trainTreeReward(make(), ArrayPairSource.fromRecords(train, 5), {
      ...opts, checkpointDir: dirB, signal: killer.signal, onStep: (s) => s.step === 3 && killer.abort(),
    });
    expect(first.steps).toBe(3);
    const resumed = await trainTreeReward(make(), ArrayPairSource.fromRecords(train, 5), { ...opts, checkpointDir: dirB });
    expect(resumed.startStep).toBe(3);
    expect(resumed.losses).toEqual(straight.losses.slice(3));
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });

  it('lowers the Bradley-Terry loss and ranks held-out pairs above chance', async () => {
    const model = make();
    const prefs: number[] = [];
    await trainTreeReward(model, ArrayPairSource.fromRecords(train, 5), { steps: 100, batchSize: 16, lr: 3e-3, freezeFraction: 0, onStep: (s) => prefs.push(s.preference) });
    const first = prefs.slice(0, 20).reduce((p, q) => p + q, 0) / 20;
    const last = prefs.slice(-20).reduce((p, q) => p + q, 0) / 20;
    // held-out pairwise accuracy on the leaf of each pair's dimension (ties skipped)
    const right = noGrad(() =>
      tidy(() => {
        const untied = held.filter((p) => !p.tie);
        const w = model.evaluate(untied.map((p) => p.preferred.prompt), imagesToTensor(untied.map((p) => p.preferred.image))).leafScores.toArray();
        const l = model.evaluate(untied.map((p) => p.rejected.prompt), imagesToTensor(untied.map((p) => p.rejected.image))).leafScores.toArray();
        const L = model.tree.leaves.length;
        let ok = 0;
        untied.forEach((p, i) => {
          const k = model.tree.leafIndex.get(p.dimension)!;
          if (w[i * L + k] > l[i * L + k]) ok++;
        });
        return ok / untied.length;
      }),
    );
    console.log(`tiny tree reward after 100 steps: held-out pairwise accuracy ${(100 * right).toFixed(1)}%, Bradley-Terry loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    expect(last).toBeLessThan(first - 0.04);
    expect(right).toBeGreaterThan(0.55);
  });
});
