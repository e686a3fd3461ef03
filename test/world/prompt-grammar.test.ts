// Prompt grammar: requirements -> text -> requirements round trips, negation, triggers, leniency.
import { describe, expect, it } from 'vitest';
import { formatPrompt, parsePrompt, parsePromptStrict, type PromptRequirements } from '../../src/world/prompt/index.js';
import { describeScene, sampleScene } from '../../src/world/scene.js';
import { Rng } from '../../src/world/random.js';
import { DIMENSIONS } from '../../src/api/interfaces.js';

function randomRequirements(seed: number): PromptRequirements {
  const rng = new Rng(seed);
  const full = describeScene(sampleScene(seed, { negationRate: 0.3 }));
  const maybe = <T>(x: T) => (rng.chance(0.5) ? x : undefined);
  return {
    objects: full.objects.map((o) => (rng.chance(0.2) ? { shape: o.shape } : o)),
    excluded: full.excluded,
    style: maybe(full.style),
    palette: maybe(full.palette),
    lighting: maybe(full.lighting),
    layout: maybe(full.layout),
    detail: maybe(full.detail),
    triggers: rng.chance(0.2) ? [rng.pick(['color', 'lighting', 'layout', 'detail'] as const)] : [],
    unknown: [],
  };
}

function stripUndefined<T extends object>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

describe('prompt grammar', () => {
  it('formats the example prompt of the design', () => {
    const req = parsePromptStrict('a red star and a blue ring, striped style, warm palette, side lighting, rule-of-thirds layout, intricate detail');
    expect(req).toEqual({
      objects: [{ shape: 'star', color: 'red' }, { shape: 'ring', color: 'blue' }],
      excluded: [], style: 'striped', palette: 'warm', lighting: 'side lighting', layout: 'rule-of-thirds', detail: 'intricate', triggers: [], unknown: [],
    });
    expect(formatPrompt(req)).toBe('a red star and a blue ring, striped style, warm palette, side lighting, rule-of-thirds layout, intricate detail');
  });

  it('round-trips requirements -> text -> requirements and text -> requirements -> text on 1000 random prompts', () => {
    for (let seed = 0; seed < 1000; seed++) {
      const req = randomRequirements(seed);
      const text = formatPrompt(req);
      expect(stripUndefined(parsePromptStrict(text))).toEqual(stripUndefined(req));
      expect(formatPrompt(parsePrompt(text))).toBe(text);
    }
  });

  it('parses negation, articles and omitted attributes', () => {
    const req = parsePrompt('a star without a ring');
    expect(req.objects).toEqual([{ shape: 'star' }]);
    expect(req.excluded).toEqual(['ring']);
    expect(req.style).toBeUndefined();
    expect(req.palette).toBeUndefined();
    expect(formatPrompt(parsePrompt('an orange heart, spotlight'))).toBe('an orange heart, spotlight');
    expect(parsePrompt('a red star without a ring without a cross').excluded).toEqual(['ring', 'cross']);
  });

  it('reads trigger phrases as their dimensions', () => {
    const req = parsePrompt('a red star, warm palette, highly detailed, cinematic lighting');
    expect(req.triggers).toEqual(['detail', 'lighting']);
    expect(req.lighting).toBeUndefined();
    expect(DIMENSIONS).toContain(req.triggers[0]);
  });

  it('keeps unknown clauses in lenient parsing and rejects them in strict parsing', () => {
    const req = parsePrompt('a red star, trending on artstation');
    expect(req.unknown).toEqual(['trending on artstation']);
    expect(() => parsePromptStrict('a red star, trending on artstation')).toThrow(
      'Expected a prompt in the world\'s grammar but received unknown clauses ["trending on artstation"] in "a red star, trending on artstation"',
    );
    expect(() => parsePromptStrict('a photo of a cat')).toThrow('Expected a prompt that names at least one object but received "a photo of a cat"');
  });
});
