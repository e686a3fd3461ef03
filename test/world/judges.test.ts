// Judges: scores in [0, 1]; a weaker generator scores lower in the dimension it degrades, both when
// the prompt names the attribute and when it does not (general quality); the captioner reads clean
// renders back.
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../../src/api/interfaces.js';
import type { Dimension } from '../../src/api/interfaces.js';
import { WORLD_JUDGES } from '../../src/world/judges/index.js';
import { WorldGenerator } from '../../src/world/world-generator.js';
import { describeScene, sampleScene } from '../../src/world/scene.js';
import { renderScene } from '../../src/world/render/render-scene.js';
import { formatPrompt, parsePrompt } from '../../src/world/prompt/index.js';
import { captionImage } from '../../src/world/captioner.js';
import { stressPrompt } from '../../src/world/prompt-sets.js';

const generator = new WorldGenerator();

/** The prompt without the attribute of `dim` (objects always stay). */
function withoutAttribute(prompt: string, dim: Dimension): string {
  const req = parsePrompt(prompt);
  if (dim === 'style') req.style = undefined;
  if (dim === 'color') req.palette = undefined;
  if (dim === 'lighting') req.lighting = undefined;
  if (dim === 'layout') req.layout = undefined;
  if (dim === 'detail') req.detail = undefined;
  return formatPrompt(req);
}

describe('world judges', () => {
  it('score in [0, 1] on clean and degraded renders', () => {
    for (let s = 0; s < 40; s++) {
      const prompt = stressPrompt(DIMENSIONS[s % 6]!, s);
      for (const quality of [1, 0.3]) {
        const image = generator.render(prompt, s, { quality }).image;
        for (const d of DIMENSIONS) {
          const v = WORLD_JUDGES[d].score(image, prompt);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('score a weaker generator lower in the dimension it degrades, named or not', () => {
    const n = 40;
    for (const d of DIMENSIONS) {
      for (const named of [true, false]) {
        if (!named && d === 'content') continue; // every prompt names its objects
        let clean = 0;
        let weak = 0;
        let wins = 0;
        for (let s = 0; s < n; s++) {
          const full = stressPrompt(d, 500 + s);
          const prompt = named ? full : withoutAttribute(full, d);
          const a = generator.render(prompt, s).image;
          const b = generator.render(prompt, s, { quality: 0.35, degrade: [d] }).image;
          const sa = WORLD_JUDGES[d].score(a, prompt);
          const sb = WORLD_JUDGES[d].score(b, prompt);
          clean += sa / n;
          weak += sb / n;
          if (sa >= sb) wins++; // a tie where nothing can degrade (a flat style has no pattern to lose)
        }
        console.log(`${d.padEnd(8)} ${named ? 'named  ' : 'unnamed'}: clean ${clean.toFixed(3)}, degraded ${weak.toFixed(3)}, clean not worse ${wins}/${n}`);
        expect(clean - weak, `${d} ${named ? 'named' : 'unnamed'}`).toBeGreaterThan(named ? 0.3 : 0.05);
        expect(wins, `${d} ${named ? 'named' : 'unnamed'}`).toBeGreaterThanOrEqual(named ? 0.9 * n : 0.7 * n);
      }
    }
  });
});

describe('world judges on images that are not world renders', () => {
  it('return a score in [0, 1] for blank, clipped and noise images of any size, without throwing', () => {
    const noise = new Uint8Array(48 * 48 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const images = [
      { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) },
      { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(255) },
      { width: 48, height: 48, data: noise },
    ];
    for (const image of images) {
      for (const d of DIMENSIONS) {
        for (const prompt of ['a red star and a blue ring, striped style, warm palette, spotlight, centered layout, intricate detail', 'a red star', 'something else entirely']) {
          const v = WORLD_JUDGES[d].score(image, prompt);
          expect(v, `${d} on ${image.width}px`).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }
    }
    expect(captionImage(images[0]!).prompt).toBe('');
  });

  it('reject a malformed image with the house error form', () => {
    expect(() => WORLD_JUDGES.color.score({ width: 4, height: 4, data: new Uint8Array(10) }, 'a red star')).toThrow(
      'Expected 48 bytes (width * height * 3) for image.data but received 10',
    );
  });
});

describe('captioner', () => {
  it('reads clean 64 px renders back: objects, style, palette, lighting, layout, detail', () => {
    const n = 120;
    const hits: Record<string, number> = { objects: 0, style: 0, palette: 0, lighting: 0, layout: 0, detail: 0 };
    for (let s = 0; s < n; s++) {
      const scene = sampleScene(7000 + s);
      const truth = describeScene(scene);
      const caption = captionImage(renderScene(scene));
      const got = caption.requirements;
      expect(parsePrompt(caption.prompt).unknown).toEqual([]);
      const key = (o: { shape: string; color?: string }) => `${o.color} ${o.shape}`;
      if (JSON.stringify(got.objects.map(key).sort()) === JSON.stringify(truth.objects.map(key).sort())) hits.objects!++;
      if (got.style === truth.style) hits.style!++;
      if (got.palette === truth.palette) hits.palette!++;
      if (got.lighting === truth.lighting) hits.lighting!++;
      if (got.layout === truth.layout) hits.layout!++;
      if (got.detail === truth.detail) hits.detail!++;
    }
    console.log(`captioner accuracy on ${n} scenes: ${Object.entries(hits).map(([k, v]) => `${k} ${((100 * v) / n).toFixed(0)}%`).join(', ')}`);
    for (const [k, v] of Object.entries(hits)) expect(v / n, k).toBeGreaterThanOrEqual(0.85);
  });
});
