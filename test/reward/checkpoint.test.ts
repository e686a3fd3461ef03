// checkpoint.test.ts: reward models round-trip through disk (tree, one-head, decoupled) and score
// the same; a damaged directory is a clear error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Rng } from '../../src/index.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { saveRewardModel, loadRewardModel } from '../../src/reward/checkpoint.js';
import { DecoupledReward } from '../../src/reward/decouple.js';
import { SingleHeadReward } from '../../src/reward/single-head.js';
import { TreeReward } from '../../src/reward/tree-reward.js';
import { DEFAULT_TREE, resolveTree } from '../../src/reward/tree-spec.js';
import { WordTokenizer } from '../../src/tokenizers/word.js';

const tok = WordTokenizer.fromWords(['a', 'red', 'star', 'warm', 'palette']);
const prompts = ['a red star', 'a star, warm palette'];

describe('reward model checkpoints', () => {
  it('tree, one-head and decoupled models score the same after save and load', () => {
    const images = new Rng(4).rand([2, 3, 64, 64]);
    const tree = new TreeReward({ backbone: new BlipBackbone('tiny', 1), tree: resolveTree({ ...DEFAULT_TREE, nodeHidden: 16, leafHidden: [16, 8, 4], tau: 0.5 }), tokenizer: tok, seed: 3 });
    tree.heads.normalisation.set('color', { mean: 0.2, std: 2 });
    const single = new SingleHeadReward({ name: 'data-scale', backbone: new BlipBackbone('tiny', 2), tokenizer: tok, hidden: [16, 8, 4] });
    single.normalisation = { mean: -0.1, std: 0.5 };
    const dec = new DecoupledReward(new Map([['color', new SingleHeadReward({ name: 'color', backbone: new BlipBackbone('tiny', 5), tokenizer: tok, hidden: [8, 8, 8] })]]));
    for (const model of [tree, single, dec]) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'reward-'));
      const before = model.score(prompts, images).reward.toArray();
      saveRewardModel(dir, model, { note: 'test' });
      const loaded = loadRewardModel(dir);
      expect(loaded.name).toBe(model.name);
      expect(Array.from(loaded.score(prompts, images).reward.toArray())).toEqual(Array.from(before));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing or foreign reward.json is a clear error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reward-'));
    expect(() => loadRewardModel(dir)).toThrow(/^Expected a reward model directory with reward.json at /);
    writeFileSync(path.join(dir, 'reward.json'), JSON.stringify({ format: 'other' }));
    expect(() => loadRewardModel(dir)).toThrow(`Expected format treereward-reward/1 in ${dir}/reward.json but received other`);
    rmSync(dir, { recursive: true, force: true });
  });
});
