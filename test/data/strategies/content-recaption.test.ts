// Content re-captioning: misaligned image-caption pairs are found by the scorer; the accurate
// caption (from the captioner) beats the original caption for the same image.
import { describe, expect, it } from 'vitest';
import { contentRecaptionPairs } from '../../../src/data/strategies/index.js';
import { WorldGenerator } from '../../../src/world/world-generator.js';
import { WORLD_JUDGES, contentJudge } from '../../../src/world/judges/index.js';
import { trainingPrompt } from '../../../src/world/benchmark.js';
import { parsePromptStrict } from '../../../src/world/prompt/index.js';

const generator = new WorldGenerator();

describe('content re-captioning', () => {
  it('finds misaligned images and records the accurate caption as the winner, checked by the content judge', async () => {
    const n = 80;
    const prompts = Array.from({ length: n }, (_, i) => trainingPrompt('content', i));
    const seeds = prompts.map((_, i) => 300 + i);
    const out = await contentRecaptionPairs({ generator, prompts, seeds, generate: { quality: 0.3, degrade: ['content'] }, verifier: { judges: WORLD_JUDGES } });
    console.log(`content re-captioning: ${out.misaligned}/${out.scored} misaligned, ${out.pairs.length} pairs`);
    expect(out.misaligned).toBeGreaterThan(n / 4);
    expect(out.pairs.length).toBeGreaterThan(n / 4);
    let agree = 0;
    for (const p of out.pairs) {
      expect(p).toMatchObject({ dimension: 'content', strategy: 'content-recaption', annotator: 'strategy', tie: false });
      expect(p.preferred.image).toBe(p.rejected.image); // the same image, two captions
      expect(prompts).toContain(p.rejected.prompt);
      expect(p.preferred.prompt).not.toBe(p.rejected.prompt);
      expect(parsePromptStrict(p.preferred.prompt).objects.length).toBeGreaterThan(0);
      expect(contentJudge.score(p.rejected.image, p.rejected.prompt)).toBeLessThan(0.6);
      if (contentJudge.score(p.preferred.image, p.preferred.prompt) > contentJudge.score(p.rejected.image, p.rejected.prompt)) agree++;
    }
    expect(agree / out.pairs.length).toBeGreaterThanOrEqual(0.95);
  });

  it('uses the pluggable scorer, captioner and threshold', async () => {
    const scored: string[] = [];
    const out = await contentRecaptionPairs({
      generator,
      prompts: ['a red star', 'a blue ring'],
      seeds: [1, 2],
      scorer: (_image, prompt) => (scored.push(prompt), prompt.includes('star') ? 0.1 : 0.9),
      captioner: () => 'a green circle',
      threshold: 0.5,
    });
    expect(scored).toEqual(['a red star', 'a blue ring']);
    expect(out.misaligned).toBe(1);
    expect(out.pairs.map((p) => [p.preferred.prompt, p.rejected.prompt])).toEqual([['a green circle', 'a red star']]);
    expect(out.pairs[0]!.cleanLabel).toBeUndefined(); // no verifier, no clean label
  });
});
