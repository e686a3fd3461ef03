// CLI smoke tests: spawn `node bin/treereward.js data ...` as a user would.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonl } from '../importers/fixtures.js';
import { FeedbackStore } from '../../../src/data/store/feedback-store.js';
import { record, removeTempDirs, tempDir } from './helpers.js';

const BIN = join(import.meta.dirname, '../../../bin/treereward.js');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let storeDir: string;

beforeAll(async () => {
  dir = tempDir();
  storeDir = join(dir, 'store');
  // a store with pixels (for `show`), then an import of references on top
  const store = FeedbackStore.open(storeDir);
  await store.insertPairs([0, 1, 2, 3].map((i) => record(i, { tie: i === 2 })));
  store.close();
});
afterAll(removeTempDirs);

describe('treereward data (CLI)', () => {
  it('imports a file and reports as JSON; stats and export read the store', async () => {
    const file = writeJsonl(dir, 'ir.jsonl', [
      { prompt: 'a cat', img_better: 'a.png', img_worse: 'b.png' },
      'not json',
      { prompt: 'a dog', img_better: 'c.png', img_worse: 'd.png' },
    ]);
    const imp = await cli('data', 'import', '--format', 'imagereward', file, '--store', storeDir, '--dimension', 'content', '--json');
    expect(imp.code).toBe(0);
    const report = JSON.parse(imp.stdout);
    expect(report).toMatchObject({ ok: true, inserted: 2, badRows: 1, dimension: 'content', errors: [{ number: 2 }] });

    const text = await cli('data', 'import', '--format', 'imagereward', file, '--store', storeDir, '--dimension', 'content');
    expect(text.stdout).toContain('imported 0 pairs into dimension "content" from 3 lines');
    expect(text.stdout).toContain('2 already stored (skipped), 1 bad lines');
    expect(text.stdout).toContain('line 2: Expected a JSON object for the line but received invalid JSON');

    const stats = await cli('data', 'stats', '--store', storeDir, '--json');
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s).toMatchObject({ pairs: 6, ties: 1 });
    expect(s.byDimension.map((d: { dimension: string; pairs: number }) => [d.dimension, d.pairs])).toEqual([['content', 2], ['lighting', 4]]);
    const statsText = await cli('data', 'stats', '--store', storeDir);
    expect(statsText.stdout).toMatch(/^6 pairs \(6 labelled, 0 queued for annotation\)/);
    expect(statsText.stdout).toContain('lighting / weak-generator');

    const out = join(dir, 'all.jsonl');
    const exp = await cli('data', 'export', '--store', storeDir, '--out', out, '--json');
    expect(JSON.parse(exp.stdout)).toEqual({ out, pairs: 6 });
    const store2 = join(dir, 'store2');
    const back = await cli('data', 'import', '--format', 'treereward', out, '--store', store2, '--json');
    expect(JSON.parse(back.stdout)).toMatchObject({ inserted: 6, badRows: 0 });
  });

  it('draws a labelled grid PNG of one dimension', async () => {
    const out = join(dir, 'grid.png');
    const r = await cli('data', 'show', '--store', storeDir, '--dimension', 'lighting', '--n', '16', '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out, dimension: 'lighting', pairs: [{ id: 1 }, { id: 2 }, { id: 3, tie: true }, { id: 4 }] });
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(2 * (2 * (160 + 8) + 24));
    expect(meta.height).toBe(2 * (40 + 168 + 34));
  });

  it('says what was expected when an argument is wrong', async () => {
    const fmt = await cli('data', 'import', '--format', 'laion', 'x.jsonl', '--store', storeDir);
    expect(fmt.code).toBe(1);
    expect(fmt.stderr).toContain('Expected one of imagereward, hpdv2, pickapic, treereward for --format but received "laion"');
    const n = await cli('data', 'show', '--store', storeDir, '--dimension', 'lighting', '--n', 'zero', '--out', join(dir, 'x.png'));
    expect(n.stderr).toContain('Expected a positive integer for --n but received "zero"');
    const dim = await cli('data', 'show', '--store', storeDir, '--dimension', 'smell', '--out', join(dir, 'x.png'));
    expect(dim.stderr).toContain('Expected a dimension with pairs for --dimension but received "smell" (the store has: content, lighting)');
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
    const missing = await cli('data', 'stats', '--store', join(dir, 'nowhere'));
    expect(missing.stderr).toContain(`Expected a feedback store directory for --store but received "${join(dir, 'nowhere')}" (no feedback.sqlite in it)`);
    const onError = await cli('data', 'import', '--format', 'imagereward', writeJsonl(dir, 'bad.jsonl', ['{}']), '--store', storeDir, '--on-error', 'fail');
    expect(onError.code).toBe(1);
    expect(onError.stderr).toContain('[IMPORT_BAD_ROW] line 1: Expected a non-empty string for prompt or text but received nothing (missing)');
    const mode = await cli('data', 'import', '--format', 'imagereward', 'x', '--store', storeDir, '--on-error', 'ignore');
    expect(mode.stderr).toContain('Expected one of skip, fail for --on-error but received "ignore"');
  });
});
