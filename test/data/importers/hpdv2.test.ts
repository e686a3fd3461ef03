import { afterAll, describe, expect, it } from 'vitest';
import { hpdv2Importer } from '../../../src/data/importers/hpdv2.js';
import { importFile } from '../../../src/data/importers/import-runner.js';
import type { FeedbackStore } from '../../../src/data/store/feedback-store.js';
import { removeTempDirs, tempDir, tempStore } from '../store/helpers.js';
import { writeJsonl, writeParquet } from './fixtures.js';

afterAll(removeTempDirs);

function pairsOf(store: FeedbackStore): [string, string, boolean][] {
  return [...store.iteratePairs()].map((p) => [p.preferred.image.path.replace(/^.*\//, ''), p.rejected.image.path.replace(/^.*\//, ''), p.tie]);
}

describe('HPDv2 importer', () => {
  it('reads train rows (human_preference one-hot over two images) and test rows (rank over several, lower better)', async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, 'hpd.jsonl', [
      { prompt: 'a castle', file_path: ['a.jpg', 'b.jpg'], human_preference: [0, 1], user_hash: 'h1' },
      { prompt: 'a lake', image_path: ['c.jpg', 'd.jpg', 'e.jpg'], rank: [2, 1, 2] },
      { prompt: 'a tree', image_path: ['f.jpg', 'g.jpg', 'h.jpg'], human_preference: 0 },
    ]);
    const store = tempStore();
    const report = await importFile(store, hpdv2Importer, file, { dimension: 'overall' });
    expect(report).toMatchObject({ rowsRead: 3, inserted: 6, badRows: 0 });
    expect(pairsOf(store)).toEqual([
      ['b.jpg', 'a.jpg', false],
      ['d.jpg', 'c.jpg', false], ['c.jpg', 'e.jpg', true], ['d.jpg', 'e.jpg', false],
      ['f.jpg', 'g.jpg', false], ['f.jpg', 'h.jpg', false],
    ]);
    expect(store.getPair(1)!.annotator).toBe('h1');
    expect(store.getPair(2)!.annotator).toBe('hpdv2');
    store.close();
  });

  it('reads a JSON array file (HPDv2 ships train.json that way) and Parquet with list columns as JSON', async () => {
    const dir = tempDir();
    const store = tempStore();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/train.json`, JSON.stringify([{ prompt: 'x', file_path: ['1.jpg', '2.jpg'], human_preference: [1, 0] }, 'oops']));
    const a = await importFile(store, hpdv2Importer, `${dir}/train.json`);
    expect(a).toMatchObject({ unit: 'item', total: 2, inserted: 1, badRows: 1, errors: [{ number: 2, reason: 'Expected a JSON object for the item but received string' }] });
    const file = writeParquet(dir, 'test.parquet', [
      { prompt: 'p', image_path: JSON.stringify(['3.jpg', '4.jpg']), rank: JSON.stringify([1, 2]) },
      { prompt: 'q', image_path: JSON.stringify(['5.jpg']), rank: JSON.stringify([1]) },
    ], { prompt: 'STRING', image_path: 'STRING', rank: 'STRING' });
    const b = await importFile(store, hpdv2Importer, file, { dimension: 'detail' });
    expect(b).toMatchObject({ unit: 'row', inserted: 0, badRows: 2 });
    expect(b.errors[0].reason).toBe('Expected a list of at least 2 paths for image_path or file_path or image_paths but received "[\\"3.jpg\\",\\"4.jpg\\"]"');
    store.close();
  });

  it('reads Parquet list columns', async () => {
    const dir = tempDir();
    const { parquetWriteFile } = await import('hyparquet-writer');
    parquetWriteFile({
      filename: `${dir}/lists.parquet`,
      columnData: [
        { name: 'prompt', data: ['p', 'q'] },
        { name: 'image_path', data: [['3.jpg', '4.jpg'], ['5.jpg', '6.jpg']] },
        { name: 'rank', data: [[1, 2], [2, 2]] },
      ],
    });
    const store = tempStore();
    const r = await importFile(store, hpdv2Importer, `${dir}/lists.parquet`, { dimension: 'detail' });
    expect(r).toMatchObject({ inserted: 2, badRows: 0 });
    expect(pairsOf(store)).toEqual([['3.jpg', '4.jpg', false], ['5.jpg', '6.jpg', true]]);
    expect(store.dimensions()).toEqual(['detail']);
    store.close();
  });

  it('reports rows whose labels do not fit', async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, 'bad.jsonl', [
      { prompt: 'a', image_path: ['1', '2'], rank: [1] },
      { prompt: 'a', image_path: ['1', '2'] },
      { prompt: 'a', image_path: ['1', '2', '3'], human_preference: [1, 1, 0] },
      { prompt: 'a', image_path: ['1', '2'], human_preference: 5 },
    ]);
    const store = tempStore();
    const r = await importFile(store, hpdv2Importer, file);
    expect(r.errors).toEqual([
      { number: 1, reason: 'Expected a list of 2 numbers for rank but received an array of 1' },
      { number: 2, reason: 'Expected a list of numbers for human_preference or rank but received nothing (missing)' },
      { number: 3, reason: 'Expected one preferred image among 3 for human_preference but received [1,1,0]' },
      { number: 4, reason: 'Expected an image index below 2 for human_preference but received 5' },
    ]);
    store.close();
  });
});
