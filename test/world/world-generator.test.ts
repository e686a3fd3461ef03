// The world as a Generator: deterministic, validated, and degrading only the dimensions asked for.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../../src/api/interfaces.js';
import { WorldGenerator } from '../../src/world/world-generator.js';
import { WORLD_JUDGES } from '../../src/world/judges/index.js';
import { stressPrompt } from '../../src/world/prompt-sets.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const g = new WorldGenerator();

describe('WorldGenerator', () => {
  it('is deterministic for a prompt and seed, and fills unnamed attributes from the seed', async () => {
    const [a, b, c] = await g.generate(['a red star', 'a red star', 'a red star'], [1, 1, 2]);
    expect(sha(a!.data)).toBe(sha(b!.data));
    expect(sha(a!.data)).not.toBe(sha(c!.data));
    expect(g.render('a red star', 1).scene.objects).toEqual([expect.objectContaining({ shape: 'star', color: 'red' })]);
  });

  it('renders at the asked size', async () => {
    const [img] = await g.generate(['a blue ring'], [3], { size: 128 });
    expect(img!.width).toBe(128);
    expect(new WorldGenerator({ size: 32 }).render('a blue ring', 3).image.width).toBe(32);
  });

  it('validates its inputs with the house error form', async () => {
    await expect(g.generate(['a red star'], [1, 2])).rejects.toThrow('Expected as many seeds as prompts (1) for seeds but received 2');
    await expect(g.generate(['a red star'], [1], { quality: 2 })).rejects.toThrow('Expected a number in [0, 1] for options.quality but received 2');
    await expect(g.generate(['a red star'], [1], { steps: 0 })).rejects.toThrow('Expected a positive integer for options.steps but received 0');
    await expect(g.generate(['a red star'], [1.5])).rejects.toThrow('Expected an integer for seeds[0] but received 1.5');
    const stop = new AbortController();
    stop.abort();
    await expect(g.generate(['a red star'], [1], { signal: stop.signal })).rejects.toThrow('aborted');
  });

  it('degrades nothing at full quality and full steps', () => {
    expect(g.severity('a red star', 1, {})).toEqual({});
    expect(g.severity('a red star', 1, { quality: 1, steps: 50 })).toEqual({});
    expect(Object.keys(g.severity('a red star', 1, { quality: 1, steps: 10 }))).toEqual([...DIMENSIONS]);
  });

  it('spares the dimension a trigger phrase asks for', () => {
    const plain = g.severity('a red star', 4, { quality: 0.4 });
    const triggered = g.severity('a red star, highly detailed', 4, { quality: 0.4 });
    expect(triggered.detail!).toBeCloseTo(0.25 * plain.detail!, 10);
    expect(triggered.color).toBe(plain.color);
  });

  it('moves mostly the judge of the one dimension it degrades', () => {
    for (const d of DIMENSIONS) {
      const drops = Object.fromEntries(DIMENSIONS.map((j) => [j, 0]));
      const n = 25;
      for (let s = 0; s < n; s++) {
        const prompt = stressPrompt(d, 900 + s);
        const a = g.render(prompt, s).image;
        const b = g.render(prompt, s, { quality: 0.4, degrade: [d] }).image;
        for (const j of DIMENSIONS) drops[j]! += (WORLD_JUDGES[j].score(a, prompt) - WORLD_JUDGES[j].score(b, prompt)) / n;
      }
      for (const j of DIMENSIONS) if (j !== d) expect(Math.abs(drops[j]!), `${d} degraded, ${j} judge`).toBeLessThan(0.1);
      expect(drops[d]!, `${d} degraded`).toBeGreaterThan(0.3);
    }
  });
});
