import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFile } from '../../../src/data/importers/import-runner.js';
import { treerewardImporter } from '../../../src/data/importers/treereward.js';
import type { FeedbackStore } from '../../../src/data/store/feedback-store.js';
import { exportJsonl, type PairLine } from '../../../src/data/store/jsonl-export.js';
import { image, record, removeTempDirs, tempDir, tempStore } from './helpers.js';

afterAll(removeTempDirs);

async function filledStore(): Promise<FeedbackStore> {
  const store = tempStore();
  await store.insertPairs([
    { ...record(1), cleanLabel: 'preferred', key: 'strategy:1' },
    { ...record(2), tie: true, cleanLabel: 'tie', dimension: 'color' },
    { dimension: 'overall', strategy: 'import:x', annotator: 'u1', tie: false, createdAt: 1_700_000_000_000,
      preferred: { prompt: 'ref', image: { path: '/elsewhere/a.png', width: 64, height: 64 } }, rejected: { prompt: 'ref 2', image: { path: '/elsewhere/b.png' } } },
  ]);
  const q = await store.enqueuePairs([{ dimension: 'layout', strategy: 'queue', left: { prompt: 'q', image: image(50) }, right: { prompt: 'q', image: image(51) } }]);
  store.annotate({ pairId: q.ids[0]!, annotator: 'ann', choice: 'right', timeSpentMs: 3000, createdAt: 5 });
  store.annotate({ pairId: 1, annotator: 'bob', choice: 'left', timeSpentMs: 100, createdAt: 6 });
  return store;
}

function readLines(file: string): PairLine[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PairLine);
}

/** A line without what is store-local: stored image paths (other store directory). */
function portable(l: PairLine): unknown {
  const img = (i: PairLine['preferred']['image']) => (i.stored ? { ...i, path: i.path.replace(/^.*\/images\//, 'images/') } : i);
  return { ...l, preferred: { ...l.preferred, image: img(l.preferred.image) }, rejected: { ...l.rejected, image: img(l.rejected.image) } };
}

describe('JSONL export and import', () => {
  it('round-trips every field but store-local ids; keyless pairs gain a content key', async () => {
    const a = await filledStore();
    const fileA = join(tempDir(), 'a.jsonl');
    expect(await exportJsonl(a, fileA)).toBe(4);
    const b = tempStore();
    const report = await importFile(b, treerewardImporter, fileA);
    expect(report).toMatchObject({ rowsRead: 4, inserted: 4, duplicates: 0, badRows: 0 });
    const fileB = join(tempDir(), 'b.jsonl');
    await exportJsonl(b, fileB);
    const linesA = readLines(fileA);
    const linesB = readLines(fileB);
    expect(linesB.map((l) => l.key?.startsWith('treereward:') || l.key === 'strategy:1')).toEqual([true, true, true, true]);
    expect(linesB.map((l) => portable({ ...l, key: null }))).toEqual(linesA.map((l) => portable({ ...l, key: null })));
    expect(linesA[0].key).toBe('strategy:1');
    expect(linesB[0].key).toBe('strategy:1');
    // stored images are copied byte for byte into the new store
    const pa = linesA[0].preferred.image;
    const pb = linesB[0].preferred.image;
    expect(pb.sha256).toBe(pa.sha256);
    expect(pb.path.startsWith(b.dir)).toBe(true);
    expect(readFileSync(pb.path)).toEqual(readFileSync(pa.path));
    // the queued pair stays queued, with its annotation
    expect(linesB[3]).toMatchObject({ labelled: false, annotations: [{ annotator: 'ann', choice: 'right', timeSpentMs: 3000, createdAt: 5 }] });
    // a second export-import is exact, keys included
    const c = tempStore();
    await importFile(c, treerewardImporter, fileB);
    const fileC = join(tempDir(), 'c.jsonl');
    await exportJsonl(c, fileC);
    expect(readLines(fileC).map(portable)).toEqual(linesB.map(portable));
    for (const s of [a, b, c]) s.close();
  });

  it('adds nothing when the same file is imported again', async () => {
    const a = await filledStore();
    const file = join(tempDir(), 'a.jsonl');
    await exportJsonl(a, file);
    const b = tempStore();
    await importFile(b, treerewardImporter, file);
    const again = await importFile(b, treerewardImporter, file);
    expect(again).toMatchObject({ inserted: 0, duplicates: 4 });
    expect(b.countPairs()).toBe(4);
    expect(b.db.prepare('SELECT count(*) FROM annotations').pluck().get()).toBe(2);
    a.close();
    b.close();
  });
});
