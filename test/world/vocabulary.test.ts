// The vocabulary: the sizes the design asks for, and user extensions that reach the grammar, the
// renderer and the judges.
import { afterEach, describe, expect, it } from 'vitest';
import { extendVocabulary, resetVocabulary, vocabulary } from '../../src/world/vocabulary/index.js';
import { parsePromptStrict } from '../../src/world/prompt/index.js';
import { WorldGenerator } from '../../src/world/world-generator.js';
import { contentJudge, styleJudge } from '../../src/world/judges/index.js';

afterEach(() => resetVocabulary());

describe('vocabulary', () => {
  it('has at least the words the design asks for', () => {
    const v = vocabulary();
    expect(v.shapes.length).toBeGreaterThanOrEqual(6);
    expect(v.colors.length).toBeGreaterThanOrEqual(9);
    expect(v.styles.length).toBeGreaterThanOrEqual(12);
    expect(v.palettes.length).toBeGreaterThanOrEqual(5);
    expect(v.lightings.length).toBeGreaterThanOrEqual(5);
    expect(v.layouts.length).toBeGreaterThanOrEqual(4);
    expect(v.details.length).toBeGreaterThanOrEqual(3);
    const names = [...v.colors.map((c) => c.name), ...v.shapes.map((s) => s.name)];
    expect(new Set(names).size).toBe(names.length);
  });

  it('takes new words that the grammar, renderer and judges then know', () => {
    extendVocabulary({
      shapes: [{ name: 'hexagon', shape: { kind: 'regular', sides: 6, radius: 0.9, rotationDeg: 30 } }],
      styles: [{ name: 'banded', pattern: { kind: 'stripes', period: 12, angleDeg: 90 } }],
    });
    const prompt = 'a red hexagon, banded style, warm palette, soft lighting, centered layout, minimal detail';
    expect(parsePromptStrict(prompt).objects).toEqual([{ shape: 'hexagon', color: 'red' }]);
    const image = new WorldGenerator().render(prompt, 1).image;
    expect(contentJudge.score(image, prompt)).toBeGreaterThan(0.5);
    expect(styleJudge.score(image, prompt)).toBeGreaterThan(styleJudge.score(image, prompt.replace('banded', 'dotted')));
  });

  it('refuses a palette whose tones are not of the background luminance', () => {
    expect(() => extendVocabulary({ palettes: [{ name: 'neon', tones: [[255, 0, 255], [0, 255, 0]] }] })).toThrow(
      'Expected palette tones of luminance 130 (0.299 R + 0.587 G + 0.114 B) for palette "neon" but received [255, 0, 255] (luminance 105.3)',
    );
    extendVocabulary({ palettes: [{ name: 'olive', tones: [[137, 135, 87], [130, 130, 130]] }] });
    expect(vocabulary().palettes.at(-1)!.name).toBe('olive');
  });

  it('refuses to redefine a word', () => {
    expect(() => extendVocabulary({ colors: [{ name: 'red', rgb: [255, 0, 0] }] })).toThrow(
      'Expected a new word for colors but received "red", which is already defined',
    );
  });
});
