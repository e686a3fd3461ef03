// Pairs of a model's own samples: two seeds per prompt, the expert decides (or the pair is queued);
// the world builder mixes them in at a share, keyed apart from the renderer's slots, resumable.
import { describe, expect, it } from 'vitest';

import { DIMENSIONS, type Dimension, type GenerateOptions, type Generator } from '../../../src/api/interfaces.js';
import { buildWorldPairs, dimensionQuotas, MODEL_SAMPLES, modelSamplePairs, sampleSeeds } from '../../../src/data/strategies/index.js';
import { trainingPrompt } from '../../../src/world/benchmark.js';
import { SimulatedExpert } from '../../../src/world/expert.js';
import { WORLD_JUDGES } from '../../../src/world/judges/index.js';
import { WorldGenerator } from '../../../src/world/world-generator.js';

/** A stand-in text-to-image model: the renderer, spoilt in every dimension by an amount its seed sets. */
class SeedQualityModel implements Generator {
  readonly name = 'seed-quality';
  readonly calls: number[][] = [];
  #world = new WorldGenerator();
  async generate(prompts: string[], seeds: number[], options: GenerateOptions = {}) {
    this.calls.push([...seeds]);
    const out = [];
    for (let i = 0; i < prompts.length; i++) {
      out.push(...(await this.#world.generate([prompts[i]!], [seeds[i]!], { ...options, quality: 0.2 + 0.8 * ((seeds[i]! % 97) / 96), degrade: [...DIMENSIONS] })));
    }
    return out;
  }
}

describe('model-sample pairs', () => {
  it('two samples per prompt with seeds derived from the slot; a noise-free expert agrees with the judge', async () => {
    for (const dimension of ['content', 'color', 'detail'] as Dimension[]) {
      const model = new SeedQualityModel();
      const prompts = Array.from({ length: 8 }, (_, i) => trainingPrompt(dimension, i));
      const seeds = prompts.map((_, i) => 1000 + i);
      const { pairs, queued } = await modelSamplePairs({ dimension, generator: model, prompts, seeds, annotator: new SimulatedExpert({ flipRate: 0 }) });
      expect(queued).toEqual([]);
      expect(pairs.length).toBe(8);
      expect(model.calls).toEqual([seeds.map((s) => sampleSeeds(s)[0]), seeds.map((s) => sampleSeeds(s)[1])]);
      const judge = WORLD_JUDGES[dimension];
      let decided = 0;
      pairs.forEach((p, i) => {
        expect(p.strategy).toBe(MODEL_SAMPLES);
        expect(p.seed).toBe(seeds[i]);
        expect(p.preferred.prompt).toBe(prompts[i]);
        expect(p.rejected.prompt).toBe(prompts[i]);
        if (p.tie) return;
        decided++;
        expect(p.cleanLabel).toBe('preferred');
        expect(judge.score(p.preferred.image, prompts[i]!)).toBeGreaterThan(judge.score(p.rejected.image, prompts[i]!));
      });
      expect(decided).toBeGreaterThan(0);
    }
  });

  it('without an annotator the pairs are queued for people', async () => {
    const prompts = [trainingPrompt('style', 1), trainingPrompt('style', 2)];
    const { pairs, queued } = await modelSamplePairs({ dimension: 'style', generator: new SeedQualityModel(), prompts, seeds: [3, 4] });
    expect(pairs).toEqual([]);
    expect(queued.map((q) => [q.strategy, q.left.prompt, q.right.prompt])).toEqual(prompts.map((p) => [MODEL_SAMPLES, p, p]));
  });

  it('the world builder makes the share of each dimension from the model, first, keyed apart; resumes by key', async () => {
    const samples = { generator: new SeedQualityModel(), share: 0.5 };
    const pairs = await buildWorldPairs({ pairs: 24, seed: 3, samples });
    expect(pairs.length).toBe(24);
    const quotas = dimensionQuotas(24);
    for (const d of DIMENSIONS) {
      const mine = pairs.filter((p) => p.dimension === d);
      expect(mine.length).toBe(quotas[d]);
      const fromModel = mine.filter((p) => p.strategy === MODEL_SAMPLES);
      expect(fromModel.length).toBe(Math.round(quotas[d] * 0.5));
      expect(fromModel.map((p) => p.key)).toEqual(fromModel.map((_, i) => `world:3:${d}:samples:${i}`));
      expect(mine.filter((p) => p.strategy !== MODEL_SAMPLES).every((p) => !p.key.includes(':samples:'))).toBe(true);
    }
    const stored = new Set(pairs.filter((p) => p.dimension === 'color').map((p) => p.key));
    const again = await buildWorldPairs({ pairs: 24, seed: 3, samples, skip: (k) => stored.has(k) });
    expect(again.length).toBe(24 - stored.size);
    expect(again.some((p) => p.dimension === 'color')).toBe(false);
    // share 0 builds what the builder built before the option existed
    const plain = await buildWorldPairs({ pairs: 12, seed: 3 });
    const zero = await buildWorldPairs({ pairs: 12, seed: 3, samples: { generator: new SeedQualityModel(), share: 0 } });
    expect(zero.map((p) => p.key)).toEqual(plain.map((p) => p.key));
    await expect(buildWorldPairs({ pairs: 12, seed: 3, samples: { generator: new SeedQualityModel(), share: 1.5 } })).rejects.toThrow('Expected a number in [0, 1] for samples.share but received 1.5');
  });
});
