import { afterAll, describe, expect, it } from 'vitest';
import { imagerewardImporter } from '../../../src/data/importers/imagereward.js';
import { ImportFailedError, importFile } from '../../../src/data/importers/import-runner.js';
import { removeTempDirs, tempDir, tempStore } from '../store/helpers.js';
import { writeJsonl, writeParquet } from './fixtures.js';

afterAll(removeTempDirs);

const rows = [
  { prompt: 'a cat on a mat', img_better: 'imgs/1.png', img_worse: 'imgs/2.png' },
  { prompt: 'a dog', img_better: '/abs/3.png', img_worse: '/abs/4.png', user_id: 'u7' },
  { text: 'a bird', img_better: 'imgs/5.png', img_worse: 'imgs/6.png' },
];

describe('ImageRewardDB importer', () => {
  it('imports JSONL pairs into "overall" with paths resolved against the file, as references', async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, 'pairs.jsonl', rows);
    const store = tempStore();
    const report = await importFile(store, imagerewardImporter, file);
    expect(report).toMatchObject({ format: 'imagereward', unit: 'line', rowsRead: 3, inserted: 3, duplicates: 0, badRows: 0, dimension: 'overall' });
    const p1 = store.getPair(1)!;
    expect(p1).toMatchObject({ dimension: 'overall', strategy: 'import:imagereward', annotator: 'imagereward', tie: false, labelled: true });
    expect(p1.preferred.image).toMatchObject({ path: `${dir}/imgs/1.png`, stored: false });
    expect(p1.rejected.image.path).toBe(`${dir}/imgs/2.png`);
    expect(store.getPair(2)!).toMatchObject({ annotator: 'u7', preferred: { prompt: 'a dog', image: { path: '/abs/3.png' } } });
    expect(store.getPair(3)!.preferred.prompt).toBe('a bird');
    store.close();
  });

  it('imports the same rows from Parquet, into another dimension', async () => {
    const dir = tempDir();
    const file = writeParquet(dir, 'pairs.parquet', rows.map((r) => ({ prompt: r.prompt ?? r.text, img_better: r.img_better, img_worse: r.img_worse })),
      { prompt: 'STRING', img_better: 'STRING', img_worse: 'STRING' });
    const store = tempStore();
    const report = await importFile(store, imagerewardImporter, file, { dimension: 'content', imageRoot: '/data' });
    expect(report).toMatchObject({ unit: 'row', total: 3, rowsRead: 3, inserted: 3 });
    expect(store.dimensions()).toEqual(['content']);
    expect(store.getPair(1)!.preferred.image.path).toBe('/data/imgs/1.png');
    store.close();
  });

  it('reports bad lines by number and reason, skips them, and keeps going', async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, 'bad.jsonl', [
      rows[0],
      '{"prompt": "broken json",',
      { prompt: 'no worse image', img_better: 'a.png' },
      '[1, 2]',
      { prompt: 42, img_better: 'a.png', img_worse: 'b.png' },
      { prompt: 'same image', img_better: 'a.png', img_worse: 'a.png' },
      rows[1],
    ]);
    const store = tempStore();
    const report = await importFile(store, imagerewardImporter, file);
    expect(report).toMatchObject({ rowsRead: 7, inserted: 2, badRows: 5 });
    expect(report.errors.map((e) => e.number)).toEqual([2, 3, 4, 5, 6]);
    expect(report.errors[0].reason).toMatch(/^Expected a JSON object for the line but received invalid JSON/);
    expect(report.errors[1].reason).toBe('Expected a non-empty string for img_worse but received nothing (missing)');
    expect(report.errors[2].reason).toBe('Expected a JSON object for the line but received an array');
    expect(report.errors[3].reason).toBe('Expected a non-empty string for prompt or text but received 42');
    expect(report.errors[4].reason).toBe('Expected two different images for img_better and img_worse but received "a.png" twice');
    store.close();
  });

  it('stops at the first bad line with --on-error fail, keeping the good lines before it; a rerun after the fix adds only the rest', async () => {
    const dir = tempDir();
    const store = tempStore();
    // already in the store before the failing import
    await importFile(store, imagerewardImporter, writeJsonl(dir, 'earlier.jsonl', [{ prompt: 'earlier', img_better: 'e1.png', img_worse: 'e2.png' }]));
    const file = writeJsonl(dir, 'half.jsonl', [rows[0], rows[1], { prompt: 'bad' }, rows[2]]);
    const err = await importFile(store, imagerewardImporter, file, { onError: 'fail', batchSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportFailedError);
    expect((err as Error).message).toBe('line 3: Expected a non-empty string for img_better but received nothing (missing) (import stopped; 2 pairs from earlier lines are stored, and a rerun adds only what is missing)');
    expect(store.countPairs()).toBe(3);
    const fixed = writeJsonl(dir, 'half.jsonl', [rows[0], rows[1], { prompt: 'fixed', img_better: 'f1.png', img_worse: 'f2.png' }, rows[2]]);
    const rerun = await importFile(store, imagerewardImporter, fixed, { onError: 'fail' });
    expect(rerun).toMatchObject({ inserted: 2, duplicates: 2, badRows: 0 });
    expect(store.countPairs()).toBe(5);
    expect(store.db.prepare("SELECT count(*) FROM prompts WHERE text = 'earlier'").pluck().get()).toBe(1);
    store.close();
  });

  it('explains a missing file', async () => {
    const store = tempStore();
    await expect(importFile(store, imagerewardImporter, '/no/such/file.jsonl')).rejects.toThrow(
      'Expected a readable data file for FILE but received "/no/such/file.jsonl" (no such file)');
    store.close();
  });
});
