import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackStore } from '../../../src/data/store/feedback-store.js';
import { SeededRandom } from '../../../src/data/store/prng.js';
import type { PairInput } from '../../../src/data/types.js';
import { removeTempDirs, tempStore } from './helpers.js';

let store: FeedbackStore;
// 6000 pairs: content 3000, style 2000, color 1000; every 10th a tie
const SIZES: Record<string, number> = { content: 3000, style: 2000, color: 1000 };

beforeAll(async () => {
  store = tempStore();
  const records: PairInput[] = [];
  let i = 0;
  for (const [dimension, n] of Object.entries(SIZES)) {
    for (let k = 0; k < n; k++, i++) {
      const prompt = `prompt ${i % 1500}`;
      records.push({
        dimension, strategy: 's', annotator: 'a', tie: i % 10 === 0,
        preferred: { prompt, image: { path: `/img/${i}-a.png` } }, rejected: { prompt, image: { path: `img/${i}-b.png` } },
      });
    }
  }
  await store.insertPairs(records);
});
afterAll(() => {
  store.close();
  removeTempDirs();
});

describe('PairSampler', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = store.sampler({ seed: 42 }).sample(500);
    const b = store.sampler({ seed: 42 }).sample(500);
    const c = store.sampler({ seed: 43 }).sample(500);
    expect(a).toEqual(b);
    expect(a.map((p) => p.id)).not.toEqual(c.map((p) => p.id));
  });

  it('pins the PRNG sequence for seed 7, so a seed means the same draws on every machine', () => {
    const rng = new SeededRandom(7);
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([838155491, 1550620431, 3610122010]);
    expect(new SeededRandom(0).next()).not.toBe(new SeededRandom(1).next());
    expect(() => new SeededRandom(1.5)).toThrow('Expected an integer for seed but received 1.5');
  });

  it('draws only labelled, untied pairs of the chosen split, with prompts and absolute image paths', () => {
    const sampler = store.sampler({ seed: 1, split: 'validation' });
    const pairs = sampler.sample(300);
    const rows = store.db.prepare('SELECT split, tie FROM pairs WHERE id = ?');
    for (const p of pairs) {
      expect(rows.get(p.id)).toEqual({ split: 'validation', tie: 0 });
      expect(p.tie).toBe(false);
      expect(p.preferred.prompt).toMatch(/^prompt \d+$/);
      expect(p.preferred.imagePath).toMatch(/^\/img\/\d+-a\.png$/);
      expect(p.rejected.imagePath).toBe(`${store.dir}/img/${p.id - 1}-b.png`);
    }
    const withTies = store.sampler({ seed: 1, includeTies: true }).sample(2000);
    expect(withTies.some((p) => p.tie)).toBe(true);
  });

  it('mixes dimensions in proportion to the data by default', () => {
    const sampler = store.sampler({ seed: 3 });
    const total = Object.values(sampler.counts).reduce((a, b) => a + b, 0);
    for (const d of Object.keys(SIZES)) expect(sampler.weights[d]).toBeCloseTo(sampler.counts[d] / total, 12);
    const { dimensionIndex } = sampler.sampleIds(60_000);
    const seen = new Map<string, number>();
    for (const k of dimensionIndex) seen.set(sampler.dimensions[k], (seen.get(sampler.dimensions[k]) ?? 0) + 1);
    for (const d of Object.keys(SIZES)) expect(Math.abs(seen.get(d)! / 60_000 - sampler.weights[d])).toBeLessThan(0.01);
  });

  it('follows a chosen mixture, leaving out dimensions it does not name', () => {
    const sampler = store.sampler({ seed: 4, mixture: { color: 1, style: 3 } });
    expect(sampler.dimensions).toEqual(['color', 'style']);
    const pairs = sampler.sample(8000);
    const color = pairs.filter((p) => p.dimension === 'color').length / pairs.length;
    expect(color).toBeGreaterThan(0.23);
    expect(color).toBeLessThan(0.27);
    expect(pairs.every((p) => p.dimension !== 'content')).toBe(true);
  });

  it('explains a mixture it cannot follow', () => {
    expect(() => store.sampler({ seed: 1, mixture: { lighting: 1 } })).toThrow(
      'Expected labelled pairs of dimension "lighting" in split train for mixture.lighting but received none (the store has: color, content, style)');
    expect(() => store.sampler({ seed: 1, mixture: { color: -1 } })).toThrow('Expected a non-negative weight for mixture.color but received -1');
    expect(() => store.sampler({ seed: 1, split: 'dev' as never })).toThrow('Expected one of train, validation, test, all for split but received "dev"');
  });
});
