import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportFailedError, importFile } from '../../../src/data/importers/import-runner.js';
import { pickapicImporter } from '../../../src/data/importers/pickapic.js';
import { removeTempDirs, tempDir, tempStore } from '../store/helpers.js';
import { jpeg, writeJsonl, writeParquet } from './fixtures.js';

afterAll(removeTempDirs);

let red: Uint8Array;
let blue: Uint8Array;
let green: Uint8Array;
beforeAll(async () => {
  red = await jpeg(220, 20, 20);
  blue = await jpeg(20, 20, 220);
  green = await jpeg(20, 200, 20);
});

const TYPES = { caption: 'STRING', jpg_0: 'BYTE_ARRAY', jpg_1: 'BYTE_ARRAY', label_0: 'DOUBLE', label_1: 'DOUBLE', user_id: 'INT64', has_label: 'BOOLEAN' } as const;

describe('Pick-a-Pic importer', () => {
  it('imports Parquet rows with embedded JPEG bytes, written content-addressed as PNG', async () => {
    const dir = tempDir();
    const file = writeParquet(dir, 'pap.parquet', [
      { caption: 'a red thing', jpg_0: red, jpg_1: blue, label_0: 1, label_1: 0, user_id: 11, has_label: true },
      { caption: 'a blue thing', jpg_0: red, jpg_1: blue, label_0: 0, label_1: 1, user_id: 12, has_label: true },
      { caption: 'no idea', jpg_0: red, jpg_1: green, label_0: 0.5, label_1: 0.5, user_id: 11, has_label: true },
      { caption: 'unlabelled', jpg_0: red, jpg_1: green, label_0: 0, label_1: 0, user_id: 11, has_label: false },
    ], TYPES);
    const store = tempStore();
    const report = await importFile(store, pickapicImporter, file, { dimension: 'color' });
    expect(report).toMatchObject({ rowsRead: 4, inserted: 3, emptyRows: 1, badRows: 0 });
    const [p1, p2, p3] = [store.getPair(1)!, store.getPair(2)!, store.getPair(3)!];
    expect(p1).toMatchObject({ dimension: 'color', annotator: 'pickapic-user:11', tie: false, strategy: 'import:pickapic' });
    expect(p3.tie).toBe(true);
    // the red image is one stored file, shared by three pairs
    expect(p1.preferred.image.id).toBe(p2.rejected.image.id);
    expect(p1.preferred.image).toMatchObject({ stored: true, width: 16, height: 16 });
    expect(store.db.prepare('SELECT count(*) FROM images').pluck().get()).toBe(3);
    const { data } = await sharp(readFileSync(store.imagePath(p1.preferred.image))).raw().toBuffer({ resolveWithObject: true });
    expect(Math.abs(data[0] - 220)).toBeLessThan(8); // red survived JPEG -> PNG
    expect(readFileSync(store.imagePath(p1.preferred.image)).subarray(1, 4).toString()).toBe('PNG');
    store.close();
  });

  it('imports JSONL with base64 bytes, and a rerun adds nothing and decodes nothing new', async () => {
    const dir = tempDir();
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const file = writeJsonl(dir, 'pap.jsonl', [
      { caption: 'x', jpg_0: b64(red), jpg_1: b64(green), label_0: 0, label_1: 1, ranking_id: 'r1' },
      { caption: 'y', jpg_0: { bytes: b64(blue) }, jpg_1: b64(green), label_0: 1, label_1: 0, ranking_id: 'r2' },
    ]);
    const store = tempStore();
    expect(await importFile(store, pickapicImporter, file)).toMatchObject({ inserted: 2, badRows: 0 });
    expect(await importFile(store, pickapicImporter, file)).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(store.countPairs()).toBe(2);
    store.close();
  });

  it('reports undecodable bytes and bad labels by row, stores the good rows, and loses nothing stored before', async () => {
    const dir = tempDir();
    const store = tempStore();
    const before = writeParquet(dir, 'before.parquet', [{ caption: 'kept', jpg_0: red, jpg_1: blue, label_0: 1, label_1: 0, user_id: 1, has_label: true }], TYPES);
    await importFile(store, pickapicImporter, before);
    const rows = [
      { caption: 'ok 1', jpg_0: green, jpg_1: blue, label_0: 1, label_1: 0, user_id: 2, has_label: true },
      { caption: 'garbage', jpg_0: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), jpg_1: blue, label_0: 1, label_1: 0, user_id: 3, has_label: true },
      { caption: 'labels', jpg_0: green, jpg_1: red, label_0: 1, label_1: 1, user_id: 4, has_label: true },
      { caption: 'ok 2', jpg_0: red, jpg_1: green, label_0: 0, label_1: 1, user_id: 5, has_label: true },
    ];
    const file = writeParquet(dir, 'mixed.parquet', rows, TYPES);
    const report = await importFile(store, pickapicImporter, file);
    expect(report).toMatchObject({ inserted: 2, badRows: 2 });
    expect(report.errors.map((e) => e.number)).toEqual([3, 2]); // labels fail when read, bytes when stored
    expect(report.errors[0].reason).toBe('Expected labels that add up to 1 (1/0, 0/1 or 0.5/0.5) for label_0 and label_1 but received 1 and 1');
    expect(report.errors[1].reason).toMatch(/^Expected a decodable image for (preferred|rejected)\.image but received bytes sharp cannot read/);
    expect(store.countPairs()).toBe(3);

    // fail mode: stops at the undecodable row; the earlier data and the good row before it are there
    const store2 = tempStore();
    await importFile(store2, pickapicImporter, before);
    const err = await importFile(store2, pickapicImporter, file, { onError: 'fail' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportFailedError);
    expect((err as Error).message).toMatch(/^row 2: Expected a decodable image/);
    expect(store2.countPairs()).toBe(2);
    expect([...store2.iteratePairs()].map((p) => p.preferred.prompt)).toEqual(['kept', 'ok 1']);
    store.close();
    store2.close();
  });
});
