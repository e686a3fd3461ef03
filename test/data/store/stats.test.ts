import { afterAll, describe, expect, it } from 'vitest';
import { agreementOf, cohensKappa } from '../../../src/data/store/agreement.js';
import { storeStats } from '../../../src/data/store/stats.js';
import type { PairInput } from '../../../src/data/types.js';
import { removeTempDirs, tempStore } from './helpers.js';

afterAll(removeTempDirs);

describe('agreement arithmetic', () => {
  it("computes Cohen's kappa: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no gives p_o 0.7, p_e 0.5, kappa 0.4", () => {
    const labels: [string, string][] = [
      ...Array.from({ length: 20 }, (): [string, string] => ['yes', 'yes']),
      ...Array.from({ length: 5 }, (): [string, string] => ['yes', 'no']),
      ...Array.from({ length: 10 }, (): [string, string] => ['no', 'yes']),
      ...Array.from({ length: 15 }, (): [string, string] => ['no', 'no']),
    ];
    expect(cohensKappa(labels)).toBeCloseTo(0.4, 12);
    expect(cohensKappa([['a', 'a'], ['a', 'a']])).toBeNull(); // chance agreement 1: undefined
    expect(cohensKappa([['a', 'b'], ['b', 'a']])).toBeCloseTo(-1, 12);
    expect(cohensKappa([])).toBeNull();
  });

  it('compares every pair of annotators on the items they share, counting only multiply labelled items', () => {
    const s = agreementOf([
      { item: '1', annotator: 'a', label: 'x' }, { item: '1', annotator: 'b', label: 'x' }, { item: '1', annotator: 'c', label: 'y' },
      { item: '2', annotator: 'a', label: 'y' }, { item: '2', annotator: 'b', label: 'y' },
      { item: '3', annotator: 'a', label: 'x' }, // alone: not compared
      { item: '4', annotator: 'a', label: 'x' }, { item: '4', annotator: 'a', label: 'y' }, { item: '4', annotator: 'b', label: 'y' }, // later label wins
    ]);
    expect(s.items).toBe(3);
    expect(s.comparisons).toBe(5); // item 1: ab, ac, bc; item 2: ab; item 4: ab
    expect(s.percentAgreement).toBeCloseTo(3 / 5, 12);
    const ab = s.byAnnotatorPair.find((p) => p.annotators.join() === 'a,b')!;
    expect(ab).toMatchObject({ items: 3, percentAgreement: 1 });
    expect(ab.kappa).toBeCloseTo(1, 12);
  });
});

describe('storeStats', () => {
  it('counts pairs per dimension and strategy, ties, clean-label and annotator agreement', async () => {
    const store = tempStore();
    const pair = (i: number, o: Partial<PairInput>): PairInput => ({
      dimension: 'style', strategy: 'sub', annotator: 'rule', tie: false,
      preferred: { prompt: `p${i}`, image: { path: `/i/${i}a` } }, rejected: { prompt: `p${i}`, image: { path: `/i/${i}b` } }, ...o,
    });
    const flipped = (i: number, o: Partial<PairInput>): PairInput => ({ ...pair(i, o), preferred: pair(i, o).rejected, rejected: pair(i, o).preferred });
    await store.insertPairs([
      // style: 4 pairs, 1 tie; clean labels on 4 of them: 3 agree
      pair(1, { cleanLabel: 'preferred', annotator: 'expert-1' }),
      pair(2, { cleanLabel: 'rejected', annotator: 'expert-1' }),
      pair(3, { tie: true, cleanLabel: 'tie', annotator: 'expert-2' }),
      pair(4, { strategy: 'weak', cleanLabel: 'preferred', annotator: 'expert-2' }),
      // color: the same comparisons (1 and 2) judged by two experts: agree on 1, disagree on 2
      pair(11, { dimension: 'color', annotator: 'e1' }),
      pair(11, { dimension: 'color', annotator: 'e2' }),
      pair(12, { dimension: 'color', annotator: 'e1' }),
      flipped(12, { dimension: 'color', annotator: 'e2' }),
    ]);
    // an annotation on pair 1 by a third person, agreeing with its clean label
    store.annotate({ pairId: 1, annotator: 'person', choice: 'left', timeSpentMs: 2000 });
    store.annotate({ pairId: 2, annotator: 'person', choice: 'skip', timeSpentMs: 1000 });
    const s = storeStats(store);
    expect(s).toMatchObject({ pairs: 8, labelled: 8, queued: 0, prompts: 6, images: 12, storedImages: 0, ties: 1 });
    expect(s.tieRate).toBeCloseTo(1 / 8, 12);
    expect(s.byDimension.map((d) => [d.dimension, d.pairs, d.ties])).toEqual([['color', 4, 0], ['style', 4, 1]]);
    expect(s.byDimension[1].tieRate).toBeCloseTo(0.25, 12);
    expect(s.byStrategy.map((r) => [r.dimension, r.strategy, r.pairs])).toEqual([['color', 'sub', 4], ['style', 'sub', 3], ['style', 'weak', 1]]);
    expect(s.cleanLabel).toMatchObject({ pairs: 4, agree: 3, agreement: 0.75 });
    expect(s.cleanLabel.byAnnotator).toEqual([
      { annotator: 'expert-1', pairs: 2, agree: 1, agreement: 0.5 },
      { annotator: 'expert-2', pairs: 2, agree: 2, agreement: 1 },
    ]);
    expect(s.annotations).toMatchObject({ total: 2, annotators: 1, byChoice: { left: 1, skip: 1 }, meanTimeSpentMs: 1500, vsCleanLabel: { pairs: 1, agree: 1, agreement: 1 } });
    // comparisons with several annotators: color 11 (e1, e2 agree), color 12 (disagree), style 1 (expert-1 and person agree)
    expect(s.agreement.items).toBe(3);
    expect(s.agreement.comparisons).toBe(3);
    expect(s.agreement.percentAgreement).toBeCloseTo(2 / 3, 12);
    const e = s.agreement.byAnnotatorPair.find((p) => p.annotators.join() === 'e1,e2')!;
    expect(e).toMatchObject({ items: 2, percentAgreement: 0.5 });
    store.close();
  });
});
