// The world dataset builder: every strategy, even shares, keyed slots, deterministic, resumable, and
// records the feedback store accepts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../../../src/api/interfaces.js';
import { buildWorldPairs, dimensionQuotas } from '../../../src/data/strategies/index.js';
import { WORLD_JUDGES } from '../../../src/world/judges/index.js';
import { isBenchmarkPrompt } from '../../../src/world/benchmark.js';
import { FeedbackStore } from '../../../src/data/store/index.js';

describe('buildWorldPairs', () => {
  it('builds N pairs over all six dimensions with every strategy, labelled as the judges say', async () => {
    const progress: number[] = [];
    const pairs = await buildWorldPairs({ pairs: 96, seed: 5, onProgress: (done) => progress.push(done) });
    expect(pairs.length).toBe(96);
    expect(progress.at(-1)).toBe(96);
    const counts = Object.fromEntries(DIMENSIONS.map((d) => [d, pairs.filter((p) => p.dimension === d).length]));
    expect(counts).toEqual(dimensionQuotas(96));
    expect(new Set(pairs.map((p) => p.strategy))).toEqual(new Set(['content-recaption', 'style-substitution', 'trigger-words', 'generator-quality', 'denoising-steps']));
    expect(new Set(pairs.map((p) => p.key)).size).toBe(96);
    let correct = 0;
    let decided = 0;
    for (const p of pairs) {
      expect(isBenchmarkPrompt(p.rejected.prompt)).toBe(false);
      expect(p.cleanLabel).toBeDefined();
      if (p.tie) continue;
      decided++;
      const j = WORLD_JUDGES[p.dimension as (typeof DIMENSIONS)[number]];
      if (j.score(p.preferred.image, p.preferred.prompt) > j.score(p.rejected.image, p.rejected.prompt)) correct++;
    }
    // Simulated experts disagree with the judge 10% of the time by default.
    console.log(`world pairs: ${correct}/${decided} decided pairs agree with the judges`);
    expect(correct / decided).toBeGreaterThan(0.8);
  });

  it('is deterministic for a seed', async () => {
    const strip = (ps: Awaited<ReturnType<typeof buildWorldPairs>>) => ps.map((p) => [p.key, p.preferred.prompt, p.rejected.prompt, p.tie, p.cleanLabel, Buffer.from(p.preferred.image.data).toString('base64').slice(0, 64)]);
    expect(strip(await buildWorldPairs({ pairs: 12, seed: 9 }))).toEqual(strip(await buildWorldPairs({ pairs: 12, seed: 9 })));
  });

  it('gives records the feedback store inserts, and resumes by key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'world-pairs-'));
    try {
      const store = FeedbackStore.open(dir);
      const first = await buildWorldPairs({ pairs: 12, seed: 2 });
      expect((await store.insertPairs(first)).inserted).toBe(12);
      const resumed = await buildWorldPairs({ pairs: 18, seed: 2, skip: (key) => store.pairIdByKey(key) !== undefined });
      expect(resumed.length).toBe(6);
      expect(resumed.every((p) => !first.some((q) => q.key === p.key))).toBe(true);
      expect((await store.insertPairs(resumed)).inserted).toBe(6);
      expect(store.countPairs()).toBe(18);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
