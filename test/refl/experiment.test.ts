// experiment.test.ts: the reward comparison runner on tiny stand-ins (a tiny generator, a tiny tree
// and a tiny one-head reward, two stand-in judges): every reward tunes the same base with the same
// budget and seeds, the judges score each tuned generator per dimension, the report gives mean and
// spread over seeds and the change from the base; a second call resumes from the cached runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import type { Judge, RgbImage } from '../../src/api/interfaces.js';
import { saveDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { BlipBackbone } from '../../src/models/blip.js';
import { runExperiment } from '../../src/refl/experiment.js';
import { RunLog } from '../../src/refl/run-log.js';
import { SingleHeadReward } from '../../src/reward/single-head.js';
import { WordTokenizer, wordsOf } from '../../src/tokenizers/word.js';
import { PROMPTS, tempDir, tinyModel, tinyTree } from './helpers.js';

/** Stand-in judges: the mean of one channel (color) and the mean luminance (lighting), in [0, 1]. */
const channelMean = (img: RgbImage, c: number) => img.data.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (img.width * img.height * 255);
const judges: Judge[] = [
  { dimension: 'color', score: (img) => channelMean(img, 0) },
  { dimension: 'lighting', score: (img) => (channelMean(img, 0) + channelMean(img, 1) + channelMean(img, 2)) / 3 },
];

describe('reward comparison experiment', () => {
  const dir = tempDir('experiment');
  const base = tinyModel(2);
  saveDiffusionModel(join(dir, 'base'), base);
  base.dispose();
  const tree = tinyTree(3);
  const single = new SingleHeadReward({ name: 'single-small', backbone: new BlipBackbone('tiny', 4), tokenizer: WordTokenizer.fromWords(wordsOf(PROMPTS)), hidden: [16, 8, 4] });
  afterAll(() => {
    tree.dispose();
    single.dispose();
  });
  const config = {
    base: 'base', output: 'runs', seeds: [0, 1],
    rewards: { tree: null, 'single-small': null },
    refl: { steps: 1, batchSize: 2, prompts: PROMPTS, sampling: { scheduler: { kind: 'ddim' }, steps: 4, method: { kind: 'refl', stopRange: [1, 3] } }, train: { learningRate: 1e-3 } },
    evaluation: { prompts: { color: PROMPTS.slice(0, 2), lighting: PROMPTS.slice(2, 4) }, steps: 2 },
  };
  const runtime = { judges, rewards: { tree, 'single-small': single }, baseDir: dir };

  it('tunes the base with each reward per seed and reports per-dimension scores with their spread', async () => {
    const r = await runExperiment(config, runtime);
    expect(Object.keys(r.base!)).toEqual(['color', 'lighting']);
    expect(r.runs.map((x) => `${x.reward}/${x.seed}`)).toEqual(['tree/0', 'tree/1', 'single-small/0', 'single-small/1']);
    for (const name of ['tree', 'single-small']) {
      const s = r.rewards[name];
      for (const d of ['color', 'lighting']) {
        const c = s.dimensions[d];
        expect(c.perSeed).toHaveLength(2);
        expect(c.mean).toBeCloseTo((c.perSeed[0] + c.perSeed[1]) / 2, 12);
        expect(c.std).toBeCloseTo(Math.abs(c.perSeed[0] - c.perSeed[1]) / Math.SQRT2, 12);
        expect(c.delta).toBeCloseTo(c.mean - r.base![d], 12);
      }
    }
    expect([...r.ranking].sort()).toEqual(['single-small', 'tree']);
    const report = readFileSync(r.reportFile, 'utf8');
    expect(report).toContain('| generator | color | lighting | average |');
    expect(report).toMatch(/\| base \| 0\.\d{4} \| 0\.\d{4} \| 0\.\d{4} \|/);
    expect(report).toMatch(/\| tree \| 0\.\d{4} ± 0\.\d{4} \([+-]0\.\d{4}\) \|/);
    expect(JSON.parse(readFileSync(r.resultsFile, 'utf8')).runs).toHaveLength(4);
    // a second call finds every run and evaluation done: same numbers, no new training steps
    const again = await runExperiment(config, runtime);
    expect(again.rewards).toEqual(r.rewards);
    const steps = RunLog.read(join(dir, 'runs', 'tree', 'seed-0', 'log.jsonl')).filter((x) => !('event' in x));
    expect(steps).toHaveLength(1);
  });

  it('needs a judge for every evaluated dimension and no per-run keys in the shared budget', async () => {
    await expect(runExperiment(config, { ...runtime, judges: judges.slice(0, 1) })).rejects.toThrow('Expected a judge for dimension "lighting" (one per evaluated dimension) for runtime.judges but received ["color"]');
    await expect(runExperiment({ ...config, refl: { ...config.refl, seed: 3 } }, runtime)).rejects.toThrow('Expected no "seed" in the shared ReFL budget (the experiment sets it per run) for experiment.refl.seed but received 3');
  });
});
