// reward-train.test.ts: training a reward model with device "cuda": the tree reward (tiny BLIP) moves to the GPU,
// the batches' images and token ids are made there, and the losses follow the CPU run's; it resumes from its
// checkpoint there; the single-head baseline trains there too. Skipped where no GPU is visible (and run on
// the CUDA simulator by npm run test:cuda-sim).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { hasCuda } from '../../src/index.js';
import { buildWorldPairs } from '../../src/data/strategies/build-world-pairs.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { ArrayPairSource } from '../../src/reward/array-pair-source.js';
import { SingleHeadReward, trainSingleHead } from '../../src/reward/single-head.js';
import { trainTreeReward } from '../../src/reward/train-tree.js';
import { TreeReward } from '../../src/reward/tree-reward.js';
import { DEFAULT_TREE, resolveTree } from '../../src/reward/tree-spec.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import { expectNear } from './helpers.js';

describe.skipIf(!hasCuda())('reward training on cuda', async () => {
  const pairs = await buildWorldPairs({ pairs: 48, seed: 11, expert: { flipRate: 0, tieBand: 0 } });
  const words = wordsOf(pairs.flatMap((p) => [p.preferred.prompt, p.rejected.prompt]));
  const make = () => new TreeReward({
    backbone: new BlipBackbone('tiny', 1), tree: resolveTree({ ...DEFAULT_TREE, nodeHidden: 16, leafHidden: [16, 8, 4] }), tokenizer: WordTokenizer.fromWords(words), seed: 2,
  });
  const opts = { steps: 4, batchSize: 4, lr: 3e-3, freezeFraction: 0 };

  it('the tree trains on the GPU with the CPU run\'s losses, and resumes there', { timeout: 600_000 }, async () => {
    const cpu = await trainTreeReward(make(), ArrayPairSource.fromRecords(pairs, 5), opts);
    const model = make();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gpu-tree-'));
    const gpu = await trainTreeReward(model, ArrayPairSource.fromRecords(pairs, 5), { ...opts, device: 'cuda', checkpointDir: dir, checkpointEvery: 2 });
    expect(new Set([...model.parameters().values()].map((p) => p.device))).toEqual(new Set(['cuda']));
    expectNear(gpu.losses, cpu.losses, 1e-3, 'tree losses');
    // a rerun with more steps resumes from the checkpoint of step 4, on the GPU
    const more = await trainTreeReward(make(), ArrayPairSource.fromRecords(pairs, 5), { ...opts, steps: 5, device: 'cuda', checkpointDir: dir, checkpointEvery: 2 });
    expect(more.startStep).toBe(4);
    expect(more.losses.length).toBe(1);
    model.dispose();
  });

  it('the single-head baseline trains on the GPU with the CPU run\'s losses', { timeout: 600_000 }, async () => {
    const single = () => new SingleHeadReward({ name: 'data-scale', backbone: new BlipBackbone('tiny', 1), hidden: [16, 8, 4], tokenizer: WordTokenizer.fromWords(words), seed: 3 });
    const cpu = await trainSingleHead(single(), ArrayPairSource.fromRecords(pairs, 5), opts);
    const gpu = await trainSingleHead(single(), ArrayPairSource.fromRecords(pairs, 5), { ...opts, device: 'cuda' });
    expectNear(gpu.losses, cpu.losses, 1e-3, 'single-head losses');
  });
});
