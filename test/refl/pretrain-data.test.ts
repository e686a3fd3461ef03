// pretrain-data.test.ts: L_pretrain's real pairs from the feedback store: the preferred side of each
// labelled, untied pair of the split, one entry per image, decoded and resized to the generator's size.
import { describe, expect, it } from 'vitest';

import type { RgbImage } from '../../src/api/interfaces.js';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { pretrainFromCallback, pretrainFromList, pretrainFromStore } from '../../src/refl/pretrain-data.js';
import { tempDir } from './helpers.js';

const flat = (v: number, size = 32): RgbImage => ({ width: size, height: size, data: new Uint8Array(size * size * 3).fill(v) });

describe('pretraining pairs', () => {
  it('come from the store: preferred sides of labelled, untied pairs of the split, resized', async () => {
    const store = FeedbackStore.open(tempDir('store'), { splitFractions: { train: 1, validation: 0, test: 0 } });
    const side = (prompt: string, v: number) => ({ prompt, image: flat(v) });
    await store.insertPairs([
      { dimension: 'color', preferred: side('a red star', 200), rejected: side('a red star', 10), strategy: 't', annotator: 'a', tie: false },
      { dimension: 'style', preferred: side('a blue ring', 120), rejected: side('a blue ring', 30), strategy: 't', annotator: 'a', tie: false },
      { dimension: 'style', preferred: side('a green square', 90), rejected: side('a green square', 60), strategy: 't', annotator: 'a', tie: true },
    ]);
    const source = pretrainFromStore(store, { size: 16 });
    expect(source.length).toBe(2);
    const items = await Promise.all([0, 1].map((i) => source.get(i)));
    expect(items.map((it) => it.prompt).sort()).toEqual(['a blue ring', 'a red star']);
    for (const it of items) {
      expect([it.image.width, it.image.height, it.image.data.length]).toEqual([16, 16, 16 * 16 * 3]);
      expect(new Set(it.image.data).size).toBe(1); // a flat image stays flat
    }
    expect(() => pretrainFromStore(store, { split: 'test', size: 16 })).toThrow(/^Expected labelled pairs in the test split of the feedback store at .* for pretrain.store but it has none$/);
    store.close();
  });

  it('come from a list or a callback, checked', async () => {
    expect(pretrainFromList([{ prompt: 'a', image: flat(1, 4) }]).length).toBe(1);
    expect(() => pretrainFromList([])).toThrow('Expected a non-empty array of { prompt, image } for items but received []');
    const cb = pretrainFromCallback(3, (i) => ({ prompt: `p${i}`, image: flat(i, 4) }));
    expect((await cb.get(2)).prompt).toBe('p2');
    expect(() => pretrainFromCallback(0, () => ({ prompt: '', image: flat(0, 4) }))).toThrow('Expected an integer >= 1 for length but received 0');
  });
});
