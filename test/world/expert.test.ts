// Simulated experts: the judge's label, a tie band, and disagreement at the configured rate.
import { describe, expect, it } from 'vitest';
import type { Dimension, Judge, RgbImage } from '../../src/api/interfaces.js';
import { SimulatedExpert } from '../../src/world/expert.js';

const img = (v: number): RgbImage => ({ width: 1, height: 1, data: new Uint8Array([v, v, v]) });
// A judge that reads the first byte: lets the test set scores exactly.
const byteJudge: Judge = { dimension: 'color', score: (image) => image.data[0]! / 255 };
const judges = Object.fromEntries(['content', 'style', 'color', 'lighting', 'layout', 'detail'].map((d) => [d, byteJudge])) as Record<Dimension, Judge>;

describe('SimulatedExpert', () => {
  it('labels with the judge when it never disagrees', () => {
    const e = new SimulatedExpert({ flipRate: 0, judges });
    expect(e.annotate('color', { prompt: 'p', image: img(200) }, { prompt: 'p', image: img(100) })).toEqual({ clean: 'first', noisy: 'first', scores: [200 / 255, 100 / 255] });
    expect(e.annotate('color', { prompt: 'p', image: img(100) }, { prompt: 'p', image: img(200) }).clean).toBe('second');
  });

  it('calls scores within the tie band a tie', () => {
    const e = new SimulatedExpert({ flipRate: 0, tieBand: 0.05, judges });
    expect(e.annotate('color', { prompt: 'p', image: img(100) }, { prompt: 'p', image: img(105) }).clean).toBe('tie');
    expect(e.annotate('color', { prompt: 'p', image: img(100) }, { prompt: 'p', image: img(120) }).clean).toBe('second');
  });

  it('disagrees at the configured rate, reproducibly for a key', () => {
    const e = new SimulatedExpert({ flipRate: 0.2, judges, seed: 3 });
    let flips = 0;
    const n = 5000;
    for (let k = 0; k < n; k++) {
      const v = e.annotate('color', { prompt: 'p', image: img(200) }, { prompt: 'p', image: img(10) }, k);
      expect(v.clean).toBe('first');
      if (v.noisy !== v.clean) flips++;
    }
    expect(Math.abs(flips / n - 0.2)).toBeLessThan(0.02);
    const again = new SimulatedExpert({ flipRate: 0.2, judges, seed: 3 });
    const a = again.annotate('color', { prompt: 'p', image: img(200) }, { prompt: 'p', image: img(10) }, 17);
    expect(a).toEqual(e.annotate('color', { prompt: 'p', image: img(200) }, { prompt: 'p', image: img(10) }, 17));
    expect(new SimulatedExpert({ flipRate: 1, judges }).annotate('color', { prompt: 'p', image: img(200) }, { prompt: 'p', image: img(10) }).noisy).toBe('second');
  });

  it('rejects bad settings', () => {
    expect(() => new SimulatedExpert({ flipRate: 1.5 })).toThrow('Expected a number in [0, 1] for flipRate but received 1.5');
    expect(() => new SimulatedExpert({ tieBand: -1 })).toThrow('Expected a number in [0, 1) for tieBand but received -1');
  });
});
