// generator-checks.test.ts: the judge-robustness measurement (an exact round trip keeps the raw
// accuracy; a blurring one costs the detail judge) and the held-out pairs store (test split, the
// judges' labels, idempotent, readable by the reward evaluation).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import * as F from '../../src/api/functional.js';
import type { Tensor } from '../../src/api/tensor.js';
import { buildHeldoutPairs, HELDOUT_STRATEGY } from '../../src/assets/heldout-pairs.js';
import { measureJudgeRobustness, type RoundTripCodec } from '../../src/assets/judge-robustness.js';
import { FeedbackStore } from '../../src/data/store/index.js';
import { evaluationPairs } from '../../src/reward/eval-pairs.js';
import { WORLD_JUDGES } from '../../src/world/judges/index.js';
import { WorldGenerator } from '../../src/world/world-generator.js';

/** Moments whose mean is the pixels themselves: the round trip returns what went in. */
const exact: RoundTripCodec = { encode: (x: Tensor) => F.concat([x, x], 1), decode: (z: Tensor) => z };
/** A 4x down- and up-sampling: fine texture and sharp edges are gone. */
const blurry: RoundTripCodec = {
  encode: (x: Tensor) => { const m = F.avgPool2d(x, 4); return F.concat([m, m], 1); },
  decode: (z: Tensor) => F.upsampleNearest2x(F.upsampleNearest2x(z)),
};

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('judge robustness', () => {
  it('an exact round trip keeps every judge at its raw accuracy, and the raw accuracy is high', () => {
    const r = measureJudgeRobustness(exact, { pairs: 12 });
    for (const d of r.dimensions) {
      expect(d.roundTrip, d.dimension).toBeCloseTo(d.raw, 6);
      expect(d.raw, d.dimension).toBeGreaterThanOrEqual(0.9);
    }
    expect(r.allMeetTarget).toBe(true);
  }, 60_000);

  it('a blurring round trip erases what the detail and style judges read, and the measure says so', () => {
    const r = measureJudgeRobustness(blurry, { pairs: 12 });
    const detail = r.dimensions.find((d) => d.dimension === 'detail')!, style = r.dimensions.find((d) => d.dimension === 'style')!;
    expect(detail.scores.roundTrip[0]).toBeLessThan(0.2 * detail.scores.raw[0]);
    expect(style.roundTrip).toBeLessThan(style.raw);
    expect(r.allMeetTarget).toBe(false);
    // what blur leaves alone (the palette, the luminance field) still ranks
    expect(r.dimensions.find((d) => d.dimension === 'lighting')!.roundTrip).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('rejects bad options', () => {
    expect(() => measureJudgeRobustness(exact, { pairs: 0 })).toThrow(/positive integer for pairs/);
    expect(() => measureJudgeRobustness(exact, { quality: 1 })).toThrow(/quality in \[0, 1\)/);
  });
});

describe('held-out generator pairs', () => {
  it('stores judged pairs of the generator on benchmark prompts in the test split, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tr-heldout-'));
    dirs.push(dir);
    const generator = new WorldGenerator(); // a deterministic stand-in: quality 0.5 draws vary by seed
    const weak = { name: 'weak-world', generate: (p: string[], s: number[]) => generator.generate(p, s, { quality: 0.5 }) };
    const summary = await buildHeldoutPairs(weak, dir, { perDimension: 3 });
    expect(summary.inserted).toBe(18);
    expect(summary.dimensions.map((d) => d.pairs)).toEqual([3, 3, 3, 3, 3, 3]);
    expect((await buildHeldoutPairs(weak, dir, { perDimension: 3 })).inserted).toBe(0);

    const store = FeedbackStore.open(dir);
    try {
      const splits = store.db.prepare('SELECT split, COUNT(*) AS n FROM pairs GROUP BY split').all() as { split: string; n: number }[];
      expect(splits).toEqual([{ split: 'test', n: 18 }]);
      const pairs = await evaluationPairs(store, { split: 'test', labels: 'clean' });
      expect(pairs.length).toBe(18);
      for (const p of pairs) {
        const judge = WORLD_JUDGES[p.dimension as keyof typeof WORLD_JUDGES];
        const w = judge.score(p.winner.image, p.winner.prompt) as number, l = judge.score(p.loser.image, p.loser.prompt) as number;
        // images went through PNG (8-bit, lossless), so the stored label still holds
        if (!p.tie) expect(w).toBeGreaterThanOrEqual(l);
        else expect(Math.abs(w - l)).toBeLessThan(0.02 + 1e-9);
      }
      const strategies = store.db.prepare('SELECT DISTINCT strategy FROM pairs').pluck().all();
      expect(strategies).toEqual([HELDOUT_STRATEGY]);
    } finally {
      store.close();
    }
  }, 60_000);
});
