import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedbackStore } from '../../../src/data/store/feedback-store.js';
import { sha256Hex } from '../../../src/data/store/image-files.js';
import type { PairRecord } from '../../../src/data/types.js';
import { image, record, removeTempDirs, tempDir, tempStore } from './helpers.js';

afterAll(removeTempDirs);

describe('FeedbackStore: pairs', () => {
  it('stores a strategy record and gives it back: prompts, pixels (content-addressed PNG), labels', async () => {
    const store = tempStore();
    const rec: PairRecord = { ...record(1), cleanLabel: 'rejected', tie: false };
    const { ids, inserted } = await store.insertPairs([rec]);
    expect(inserted).toBe(1);
    const pair = store.getPair(ids[0]!)!;
    expect(pair).toMatchObject({
      dimension: 'lighting', strategy: 'weak-generator', annotator: 'rule', labelled: true, tie: false, cleanLabel: 'rejected', seed: 1, key: null,
      preferred: { prompt: rec.preferred.prompt }, rejected: { prompt: rec.rejected.prompt },
    });
    expect(pair.preferred.promptId).toBe(pair.rejected.promptId);
    const file = store.imagePath(pair.preferred.image);
    const bytes = readFileSync(file);
    expect(pair.preferred.image.sha256).toBe(sha256Hex(bytes));
    expect(pair.preferred.image.path).toBe(join('images', pair.preferred.image.sha256!.slice(0, 2), `${pair.preferred.image.sha256}.png`));
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([8, 8, 3]);
    expect(new Uint8Array(data)).toEqual(rec.preferred.image.data);
    store.close();
  });

  it('writes one file and one row for the same pixels used twice', async () => {
    const store = tempStore();
    const same = image(100);
    await store.insertPairs([record(1, { preferred: { prompt: 'p', image: same } }), record(2, { preferred: { prompt: 'p', image: { ...same, data: same.data.slice() } } })]);
    expect(store.db.prepare('SELECT count(*) FROM images').pluck().get()).toBe(3);
    const dirsUnder = readdirSync(join(store.dir, 'images'));
    const files = dirsUnder.flatMap((d) => readdirSync(join(store.dir, 'images', d)));
    expect(files).toHaveLength(3);
    store.close();
  });

  it('keeps image references as paths, without files', async () => {
    const store = tempStore();
    const { ids } = await store.insertPairs([{
      dimension: 'overall', strategy: 'import', annotator: 'x', tie: true,
      preferred: { prompt: 'a', image: { path: '/data/a.png', width: 512, height: 512 } },
      rejected: { prompt: 'a', image: { path: '/data/b.png' } },
    }]);
    const pair = store.getPair(ids[0]!)!;
    expect(pair.preferred.image).toMatchObject({ path: '/data/a.png', stored: false, sha256: null, width: 512, height: 512 });
    expect(store.imagePath(pair.preferred.image)).toBe('/data/a.png');
    expect(pair.tie).toBe(true);
    expect(existsSync(join(store.dir, 'images'))).toBe(false);
    store.close();
  });

  it('skips a record whose key is stored (within a call and across calls)', async () => {
    const store = tempStore();
    const first = await store.insertPairs([{ ...record(1), key: 'k1' }, { ...record(2), key: 'k2' }, { ...record(3), key: 'k1' }]);
    expect(first).toMatchObject({ inserted: 2, duplicates: 1 });
    expect(first.ids[2]).toBeNull();
    const again = await store.insertPairs([{ ...record(1), key: 'k1' }, { ...record(4), key: 'k4' }]);
    expect(again).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(store.countPairs()).toBe(3);
    expect(store.pairIdByKey('k4')).toBe(again.ids[1]);
    store.close();
  });

  it('inserts a call in one transaction: a bad record leaves nothing of the call behind', async () => {
    const store = tempStore();
    await store.insertPairs([record(0)]);
    const bad = record(2);
    bad.rejected = { prompt: 'x', image: { width: 8, height: 8, data: new Uint8Array(10) } };
    await expect(store.insertPairs([record(1), bad])).rejects.toThrow('Expected 192 bytes of RGB data for records[1].rejected.image but received 10 bytes');
    const noDimension = { ...record(3), dimension: '' };
    await expect(store.insertPairs([record(1), noDimension])).rejects.toThrow('Expected a non-empty string for records[1].dimension but received ""');
    expect(store.countPairs()).toBe(1);
    expect(store.db.prepare('SELECT count(*) FROM prompts').pluck().get()).toBe(1);
    store.close();
  });

  it('reopens with its split fractions and refuses others', async () => {
    const dir = tempDir();
    const a = FeedbackStore.open(dir, { splitFractions: { train: 0.5, validation: 0.25, test: 0.25 } });
    await a.insertPairs([record(1)]);
    a.close();
    const b = FeedbackStore.open(dir);
    expect(b.splitFractions).toEqual({ train: 0.5, validation: 0.25, test: 0.25 });
    expect(b.countPairs()).toBe(1);
    b.close();
    expect(() => FeedbackStore.open(dir, { splitFractions: { train: 0.8, validation: 0.1, test: 0.1 } })).toThrow(
      'Expected the store\'s split fractions {"train":0.5,"validation":0.25,"test":0.25} for splitFractions but received {"train":0.8,"validation":0.1,"test":0.1} (splits are fixed when a store is created)');
    expect(() => FeedbackStore.open(tempDir(), { splitFractions: { train: 0.5, validation: 0.1, test: 0.1 } })).toThrow(
      'Expected split fractions that add up to 1 for splitFractions but received 0.7');
  });

  it('uses WAL mode', () => {
    const store = tempStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });
});

describe('FeedbackStore: annotation queue', () => {
  async function queued(): Promise<{ store: FeedbackStore; ids: number[] }> {
    const store = tempStore();
    const r = await store.enqueuePairs([0, 1, 2].map((i) => ({
      dimension: 'layout', strategy: 'expert-queue',
      left: { prompt: `p${i}`, image: image(10 * i) }, right: { prompt: `p${i}`, image: image(10 * i + 1) },
    })));
    return { store, ids: r.ids as number[] };
  }

  it('serves unlabelled pairs an annotator has not seen, least annotated first', async () => {
    const { store, ids } = await queued();
    expect(store.nextUnlabelled({ annotator: 'ann', limit: 10 }).map((p) => p.id)).toEqual(ids);
    store.annotate({ pairId: ids[0], annotator: 'bob', choice: 'left', timeSpentMs: 1200 });
    expect(store.nextUnlabelled({ annotator: 'ann', limit: 10 }).map((p) => p.id)).toEqual([ids[1], ids[2], ids[0]]);
    expect(store.nextUnlabelled({ annotator: 'bob', limit: 10 }).map((p) => p.id)).toEqual([ids[1], ids[2]]);
    expect(store.nextUnlabelled({ annotator: 'bob', dimension: 'color' })).toEqual([]);
    expect(store.countPairs({ labelled: false })).toBe(3);
    store.close();
  });

  it('records annotations (an annotator changing their mind replaces the choice) and checks them', async () => {
    const { store, ids } = await queued();
    store.annotate({ pairId: ids[0], annotator: 'ann', choice: 'left' });
    store.annotate({ pairId: ids[0], annotator: 'ann', choice: 'tie', timeSpentMs: 500 });
    expect(store.annotationsOf(ids[0])).toMatchObject([{ annotator: 'ann', choice: 'tie', timeSpentMs: 500 }]);
    expect(() => store.annotate({ pairId: ids[0], annotator: 'ann', choice: 'up' as never })).toThrow('Expected one of left, right, tie, skip for choice but received "up"');
    expect(() => store.annotate({ pairId: 999, annotator: 'ann', choice: 'left' })).toThrow('Expected the id of a stored pair for pairId but received 999');
    store.close();
  });

  it('resolves by majority: a right win swaps the sides and flips the annotations with them', async () => {
    const { store, ids } = await queued();
    const before = store.getPair(ids[1])!;
    store.annotate({ pairId: ids[0], annotator: 'a', choice: 'left' });
    store.annotate({ pairId: ids[1], annotator: 'a', choice: 'right' });
    store.annotate({ pairId: ids[1], annotator: 'b', choice: 'right' });
    store.annotate({ pairId: ids[1], annotator: 'c', choice: 'left' });
    store.annotate({ pairId: ids[2], annotator: 'a', choice: 'skip' });
    expect(store.resolveAnnotations({ minVotes: 1 })).toEqual({ resolved: 2, ties: 0 });
    const p0 = store.getPair(ids[0])!;
    expect(p0).toMatchObject({ labelled: true, fromAnnotations: true, tie: false, annotator: 'a' });
    const p1 = store.getPair(ids[1])!;
    expect(p1.labelled).toBe(true);
    expect(p1.preferred.image.id).toBe(before.rejected.image.id);
    expect(p1.rejected.image.id).toBe(before.preferred.image.id);
    expect(p1.annotator).toBe('a+b+c');
    expect(store.annotationsOf(ids[1]).map((a) => a.choice)).toEqual(['left', 'left', 'right']);
    expect(store.getPair(ids[2])!.labelled).toBe(false); // only a skip
    store.close();
  });
});
