// Aesthetic pairs (color, lighting, layout, detail): trigger words, stronger vs weaker generator,
// more vs fewer steps; a simulated expert decides, or the pair is queued.
import { describe, expect, it } from 'vitest';
import { AESTHETIC_DIMENSIONS, PAIR_SOURCES, aestheticPairs } from '../../../src/data/strategies/index.js';
import { WorldGenerator } from '../../../src/world/world-generator.js';
import { WORLD_JUDGES } from '../../../src/world/judges/index.js';
import { SimulatedExpert } from '../../../src/world/expert.js';
import { trainingPrompt } from '../../../src/world/benchmark.js';

const generator = new WorldGenerator();

describe('aesthetic pairs', () => {
  it('with a noise-free expert, every pair agrees with its dimension judge, and most pairs are not ties', async () => {
    for (const dimension of AESTHETIC_DIMENSIONS) {
      const n = 24;
      const prompts = Array.from({ length: n }, (_, i) => trainingPrompt(dimension, i));
      const seeds = prompts.map((_, i) => 50 + i);
      const { pairs, queued } = await aestheticPairs({ dimension, generator, prompts, seeds, annotator: new SimulatedExpert({ flipRate: 0 }) });
      expect(queued).toEqual([]);
      expect(pairs.length).toBe(n);
      expect(new Set(pairs.map((p) => p.strategy))).toEqual(new Set(PAIR_SOURCES));
      const judge = WORLD_JUDGES[dimension];
      let ties = 0;
      for (const p of pairs) {
        expect(p.annotator).toBe('sim-expert');
        expect(p.preferred.prompt).toBe(p.rejected.prompt);
        expect(p.preferred.prompt).not.toContain('highly detailed'); // trigger words only reach the generator
        if (p.tie) {
          ties++;
          expect(p.cleanLabel).toBe('tie');
        } else {
          expect(p.cleanLabel).toBe('preferred');
          expect(judge.score(p.preferred.image, p.preferred.prompt)).toBeGreaterThan(judge.score(p.rejected.image, p.rejected.prompt));
        }
      }
      console.log(`${dimension}: ${n} pairs, ${ties} ties`);
      expect(ties).toBeLessThan(n / 2);
    }
  });

  it('records the clean label against a noisy expert', async () => {
    const prompts = Array.from({ length: 30 }, (_, i) => trainingPrompt('lighting', i));
    const { pairs } = await aestheticPairs({
      dimension: 'lighting', generator, prompts, seeds: prompts.map((_, i) => i), sources: ['generator-quality'], weakQuality: [0.2, 0.3],
      annotator: new SimulatedExpert({ flipRate: 1 }),
    });
    // An expert that always disagrees records the worse image as preferred; the clean label says so.
    for (const p of pairs) if (!p.tie) expect(p.cleanLabel).toBe('rejected');
  });

  it('queues the pairs when nobody decides', async () => {
    const { pairs, queued } = await aestheticPairs({ dimension: 'detail', generator, prompts: ['a red star', 'a blue ring'], seeds: [1, 2] });
    expect(pairs).toEqual([]);
    expect(queued.map((q) => [q.dimension, q.strategy, q.seed, q.left.prompt])).toEqual([
      ['detail', 'trigger-words', 1, 'a red star'],
      ['detail', 'generator-quality', 2, 'a blue ring'],
    ]);
  });

  it('rejects a dimension that is not aesthetic', async () => {
    await expect(aestheticPairs({ dimension: 'style' as 'color', generator, prompts: [], seeds: [] })).rejects.toThrow(
      'Expected one of color, lighting, layout, detail for dimension but received "style"',
    );
  });
});
