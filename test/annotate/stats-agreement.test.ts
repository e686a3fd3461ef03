// data stats for the expert half: agreement between people per dimension, and people against the
// simulated expert's clean label of the same comparison (same dimension and images), wherever it is.
import { afterAll, describe, expect, it } from 'vitest';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { storeStats } from '../../src/data/store/stats.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('storeStats: annotation agreement', () => {
  it('compares annotations on queued copies with the clean label of the simulated expert, per dimension and annotator', async () => {
    const store = FeedbackStore.open(tempDir());
    const img = (n: string) => ({ path: `/images/${n}.png` });
    // the simulated expert's labelled pairs, with clean labels: x1 > x2 (lighting), y2 > y1 (the recorded label is flipped), z tie (color)
    await store.insertPairs([
      { dimension: 'lighting', strategy: 'sim-expert', annotator: 'sim', tie: false, cleanLabel: 'preferred', preferred: { prompt: 'p', image: img('x1') }, rejected: { prompt: 'p', image: img('x2') } },
      { dimension: 'lighting', strategy: 'sim-expert', annotator: 'sim', tie: false, cleanLabel: 'rejected', preferred: { prompt: 'q', image: img('y1') }, rejected: { prompt: 'q', image: img('y2') } },
      { dimension: 'color', strategy: 'sim-expert', annotator: 'sim', tie: true, cleanLabel: 'tie', preferred: { prompt: 'r', image: img('z1') }, rejected: { prompt: 'r', image: img('z2') } },
    ]);
    // the same comparisons queued for people, sides in either order
    const q = await store.enqueuePairs([
      { dimension: 'lighting', strategy: 'undecided', left: { prompt: 'p', image: img('x2') }, right: { prompt: 'p', image: img('x1') } },
      { dimension: 'lighting', strategy: 'undecided', left: { prompt: 'q', image: img('y1') }, right: { prompt: 'q', image: img('y2') } },
      { dimension: 'color', strategy: 'undecided', left: { prompt: 'r', image: img('z1') }, right: { prompt: 'r', image: img('z2') } },
      // no clean label anywhere for this one
      { dimension: 'detail', strategy: 'undecided', left: { prompt: 's', image: img('w1') }, right: { prompt: 's', image: img('w2') } },
    ]);
    const [x, y, z, w] = q.ids as number[];
    store.annotate({ pairId: x, annotator: 'ann', choice: 'right' }); // x1: agrees
    store.annotate({ pairId: x, annotator: 'ben', choice: 'left' }); // x2: disagrees
    store.annotate({ pairId: y, annotator: 'ann', choice: 'right' }); // y2: agrees (the clean label, not the recorded one)
    store.annotate({ pairId: y, annotator: 'ben', choice: 'skip' }); // not counted
    store.annotate({ pairId: z, annotator: 'ann', choice: 'tie' }); // agrees
    store.annotate({ pairId: z, annotator: 'ben', choice: 'left' }); // disagrees
    store.annotate({ pairId: w, annotator: 'ann', choice: 'left' }); // no clean label
    store.annotate({ pairId: w, annotator: 'ben', choice: 'left' });
    const s = storeStats(store);
    expect(s.annotationsVsClean).toEqual({
      pairs: 5, agree: 3, agreement: 3 / 5,
      byDimension: [{ dimension: 'color', pairs: 2, agree: 1, agreement: 0.5 }, { dimension: 'lighting', pairs: 3, agree: 2, agreement: 2 / 3 }],
      byAnnotator: [{ annotator: 'ann', pairs: 3, agree: 3, agreement: 1 }, { annotator: 'ben', pairs: 2, agree: 0, agreement: 0 }],
    });
    // agreement per dimension counts the simulated expert ('sim') as one more annotator of the same comparison
    const byDim = Object.fromEntries(s.agreementByDimension.map((d) => [d.dimension, d]));
    expect(Object.keys(byDim)).toEqual(['color', 'detail', 'lighting']);
    expect(byDim.detail).toMatchObject({ items: 1, comparisons: 1, percentAgreement: 1 }); // ann and ben agree
    expect(byDim.color).toMatchObject({ items: 1, comparisons: 3 }); // sim, ann, ben: sim = ann (tie), ben differs
    expect(byDim.color.percentAgreement).toBeCloseTo(1 / 3, 12);
    expect(byDim.lighting.items).toBe(2);
    // the pooled figure is unchanged in meaning: all dimensions together
    expect(s.agreement.items).toBe(4);
    store.close();
  });
});
