// Style substitution: the image of the original prompt wins, both sides judged against it.
import { describe, expect, it } from 'vitest';
import { styleSubstitutionPairs, substituteStyle } from '../../../src/data/strategies/index.js';
import { WorldGenerator } from '../../../src/world/world-generator.js';
import { WORLD_JUDGES, styleJudge } from '../../../src/world/judges/index.js';
import { trainingPrompt } from '../../../src/world/benchmark.js';
import { parsePrompt } from '../../../src/world/prompt/index.js';

describe('style substitution', () => {
  it('replaces only the style clause', () => {
    expect(substituteStyle('a red star, striped style, warm palette', 'striped', 'dotted')).toBe('a red star, dotted style, warm palette');
    expect(substituteStyle('a red star, flat style', 'flat', 'brick')).toBe('a red star, brick style');
    expect(() => substituteStyle('a red star', 'flat', 'brick')).toThrow('Expected a "flat style" clause in prompt but received "a red star"');
  });

  it('yields pairs the style judge agrees with, original prompt on both sides', async () => {
    const n = 60;
    const prompts = Array.from({ length: n }, (_, i) => trainingPrompt('style', i));
    const seeds = prompts.map((_, i) => 100 + i);
    const { pairs, queued } = await styleSubstitutionPairs({ generator: new WorldGenerator(), prompts, seeds, verifier: { judges: WORLD_JUDGES } });
    expect(queued).toEqual([]);
    expect(pairs.length).toBe(n); // style prompts always name a style
    let agree = 0;
    for (const [i, p] of pairs.entries()) {
      expect(p).toMatchObject({ dimension: 'style', strategy: 'style-substitution', annotator: 'strategy', tie: false, seed: seeds[i] });
      expect(p.preferred.prompt).toBe(prompts[i]);
      expect(p.rejected.prompt).toBe(prompts[i]);
      expect(parsePrompt(p.preferred.prompt).style).toBeDefined();
      if (styleJudge.score(p.preferred.image, p.preferred.prompt) > styleJudge.score(p.rejected.image, p.rejected.prompt)) agree++;
      expect(['preferred', 'tie', 'rejected']).toContain(p.cleanLabel);
    }
    console.log(`style substitution: judge agrees with ${agree}/${n} pairs`);
    expect(agree / n).toBeGreaterThanOrEqual(0.95);
  });

  it('skips prompts that name no style', async () => {
    const out = await styleSubstitutionPairs({ generator: new WorldGenerator(), prompts: ['a red star'], seeds: [1] });
    expect(out.pairs).toEqual([]);
  });
});
