// The annotate commands as a user runs them (node bin/treereward.js ...): users, the server's start and
// stop, A/B import from folders and JSONL, summary, export, resolve; and data stats' agreement tables.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { BIN, call, childServer, queuedStore, removeTempDirs, sceneImage, tempDir } from './helpers.js';

/** As a user runs it: a child process (slow to start: used where the process itself matters). */
function spawnCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The same command line through main() in this process, with what it prints captured (as bin/treereward.js reports errors). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await main(['node', 'treereward', ...args]);
    return { code: 0, stdout: lines.map((l) => `${l}\n`).join(''), stderr: '' };
  } catch (err) {
    return { code: 1, stdout: lines.map((l) => `${l}\n`).join(''), stderr: `treereward: ${(err as Error).message}\n` };
  } finally {
    log.mockRestore();
  }
}

async function writePng(path: string, seed: number): Promise<void> {
  const img = sceneImage(seed);
  await sharp(img.data, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(path);
}

let dir: string;
let storeDir: string;

beforeAll(async () => {
  dir = tempDir();
  storeDir = (await queuedStore({ pairs: 4, pixels: true, dir: join(dir, 'store') })).dir;
  FeedbackStore.open(storeDir).close();
});
afterAll(removeTempDirs);

describe('treereward annotate (CLI)', () => {
  it('adds users with tokens shown once (stored hashed), lists them, refuses a repeat name', async () => {
    const r = await spawnCli('annotate', 'add-user', 'alice', '--store', storeDir, '--json');
    expect(r.code).toBe(0);
    const { token } = JSON.parse(r.stdout);
    expect(token).toMatch(/^trw_[A-Za-z0-9_-]{43}$/);
    const admin = await cli('annotate', 'add-user', 'root', '--admin', '--store', storeDir);
    expect(admin.stdout).toMatch(/^added admin root; token \(shown only now\):\ntrw_/);
    const store = FeedbackStore.open(storeDir);
    const rows = store.db.prepare('SELECT name, token_sha256 FROM annotate_users ORDER BY name').all() as { name: string; token_sha256: string }[];
    store.close();
    expect(rows.map((u) => u.name)).toEqual(['alice', 'root']);
    expect(rows[0].token_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(storeDir, 'feedback.sqlite')).includes(token)).toBe(false);
    const again = await spawnCli('annotate', 'add-user', 'alice', '--store', storeDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Expected a new user name for name but received "alice" (that user exists; pass --new-token to replace its token)');
    const bad = await cli('annotate', 'add-user', 'a b', '--store', storeDir);
    expect(bad.stderr).toContain(`Expected a user name of 1 to 64 letters, digits, '.', '_', '@' or '-' (starting with a letter or digit) for name but received "a b"`);
    const list = await cli('annotate', 'users', '--store', storeDir, '--json');
    expect(JSON.parse(list.stdout).map((u: { name: string; admin: boolean }) => [u.name, u.admin])).toEqual([['alice', false], ['root', true]]);
    const rotated = await cli('annotate', 'add-user', 'alice', '--new-token', '--store', storeDir, '--json');
    expect(JSON.parse(rotated.stdout).token).not.toBe(token);
  });

  it('starts the server, prints its URL, serves the page, and stops on SIGINT', async () => {
    const r = await cli('annotate', 'add-user', 'bob', '--store', storeDir, '--json');
    const { token } = JSON.parse(r.stdout);
    const server = await childServer(storeDir, ['--lease-minutes', '0.5', '--labels-per-pair', '2']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>treereward · annotate</title>');
    expect((await call(server.url, 'GET', '/api/me', token)).body).toMatchObject({ name: 'bob', leaseMs: 30_000, labelsPerPair: 2 });
    server.proc.kill('SIGINT');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim().split('\n').at(-1)).toBe('{"stopped":true}');

    const text = await cli('annotate', '--store', join(dir, 'nowhere'), '--port', '0');
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`Expected a feedback store directory for --store but received "${join(dir, 'nowhere')}" (no feedback.sqlite in it)`);
    const port = await cli('annotate', '--store', storeDir, '--port', '70000');
    expect(port.stderr).toContain('Expected a port from 0 to 65535 for --port but received "70000"');
  });

  it('imports an A/B set from two model folders and from a JSONL file, and summarises it', async () => {
    const a = join(dir, 'tree');
    const b = join(dir, 'sd15');
    mkdirSync(a);
    mkdirSync(b);
    const prompts = ['a red star, side lighting', 'a blue ring, warm palette', 'a green square, rule of thirds'];
    for (const [i, p] of prompts.entries()) {
      await writePng(join(a, `${i}.png`), 10 + i);
      await writePng(join(b, `${i}.png`), 20 + i);
    }
    writeFileSync(join(a, 'prompts.jsonl'), prompts.map((p, i) => JSON.stringify({ prompt: p, image: `${i}.png`, dimension: 'lighting' })).join('\n'));
    writeFileSync(join(b, 'prompts.jsonl'), prompts.slice(0, 2).map((p, i) => JSON.stringify({ prompt: p, image: `${i}.png`, dimension: 'lighting' })).join('\n'));
    const r = await cli('annotate', 'ab-import', '--store', storeDir, '--a', a, '--b', b, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ inserted: 2, duplicates: 0, set: { name: 'tree-vs-sd15', modelA: 'tree', modelB: 'sd15', items: 2 }, onlyInA: ['lighting / a green square, rule of thirds'], onlyInB: [] });
    const rerun = await cli('annotate', 'ab-import', '--store', storeDir, '--a', a, '--b', b);
    expect(rerun.stdout).toContain('A/B set tree-vs-sd15: 0 prompts added (2 already there), 2 in all; tree (A) vs sd15 (B)');
    expect(rerun.stdout).toContain('not imported: 1 prompts only in A, 0 only in B');

    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, `${JSON.stringify({ prompt: 'a star', a: 'tree/0.png', b: 'sd15/0.png' })}\n${JSON.stringify({ prompt: 'a ring', a: 'tree/1.png', b: 'missing.png' })}\n`);
    const missing = await cli('annotate', 'ab-import', '--store', storeDir, '--jsonl', file, '--name', 'one-file');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${file} line 2: Expected an image file for "missing.png" but received a path that does not exist`);
    writeFileSync(file, `${JSON.stringify({ prompt: 'a star', a: 'tree/0.png', b: 'sd15/0.png' })}\n`);
    const one = await cli('annotate', 'ab-import', '--store', storeDir, '--jsonl', file, '--name', 'one-file', '--labels-per-item', '3', '--json');
    expect(JSON.parse(one.stdout)).toMatchObject({ inserted: 1, set: { name: 'one-file', modelA: 'A', modelB: 'B', labelsPerItem: 3 } });
    const both = await cli('annotate', 'ab-import', '--store', storeDir, '--jsonl', file, '--a', a);
    expect(both.stderr).toContain('Expected either --a and --b, or --jsonl, for the items but received both');

    // one label, then the summary in text and JSON
    const store = FeedbackStore.open(storeDir);
    const item = store.db.prepare(`SELECT i.id FROM ab_items i JOIN ab_sets s ON s.id = i.set_id WHERE s.name = 'tree-vs-sd15' ORDER BY i.id LIMIT 1`).pluck().get() as number;
    store.db.prepare(`INSERT INTO ab_labels (item_id, annotator, outcome, a_shown_left, created_at, time_spent_ms) VALUES (?, 'alice', 'a', 1, 0, 1000)`).run(item);
    store.close();
    const summary = await cli('annotate', 'ab-summary', '--store', storeDir, '--set', 'tree-vs-sd15', '--json');
    expect(JSON.parse(summary.stdout)).toMatchObject({ items: 2, labelledItems: 1, overall: { win: 1, tie: 0, loss: 0, winRate: 1 } });
    const text = await cli('annotate', 'ab-summary', '--store', storeDir, '--set', 'tree-vs-sd15');
    expect(text.stdout).toContain('A/B set tree-vs-sd15: tree (A) vs sd15 (B); 2 prompts, 1 labelled, by 1 annotator(s)');
    expect(text.stdout).toContain('labels:     win 1 (100.0%), tie 0 (0.0%), loss 0 (0.0%)');
    const unknown = await cli('annotate', 'ab-summary', '--store', storeDir, '--set', 'nope');
    expect(unknown.stderr).toContain('Expected the name of an A/B set for set but received "nope"');
  });

  it('exports labels, resolves queued pairs by majority, and data stats reports agreement per dimension', async () => {
    const store = FeedbackStore.open(storeDir);
    const pairs = store.db.prepare('SELECT id FROM pairs WHERE labelled = 0 ORDER BY id').pluck().all() as number[];
    store.annotate({ pairId: pairs[0], annotator: 'alice', choice: 'left', timeSpentMs: 1000 });
    store.annotate({ pairId: pairs[0], annotator: 'bob', choice: 'left', timeSpentMs: 2000 });
    store.annotate({ pairId: pairs[1], annotator: 'alice', choice: 'right', timeSpentMs: 1000 });
    store.annotate({ pairId: pairs[1], annotator: 'bob', choice: 'left', timeSpentMs: 2000 });
    store.close();
    const out = join(dir, 'labels.jsonl');
    const exp = await cli('annotate', 'export', '--store', storeDir, '--out', out, '--json');
    expect(JSON.parse(exp.stdout)).toEqual({ out, labels: 5 }); // 4 pair labels and 1 A/B label
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['pair', 'pair', 'pair', 'pair', 'ab']);
    expect(lines[4]).toMatchObject({ set: 'tree-vs-sd15', outcome: 'win', shownLeft: 'a' });

    const stats = JSON.parse((await cli('data', 'stats', '--store', storeDir, '--json')).stdout);
    // pairs[0] (lighting): alice and bob agree; pairs[1] (color): they disagree
    expect(stats.agreementByDimension.map((d: { dimension: string; items: number; percentAgreement: number }) => [d.dimension, d.items, d.percentAgreement]))
      .toEqual([['color', 1, 0], ['lighting', 1, 1]]);
    const text = (await cli('data', 'stats', '--store', storeDir)).stdout;
    expect(text).toMatch(/dimension\s+compared items\s+annotators agree\s+kappa\s+annotations vs clean\s+agree/);

    const resolved = await cli('annotate', 'resolve', '--store', storeDir, '--min-votes', '2', '--json');
    expect(JSON.parse(resolved.stdout)).toEqual({ resolved: 2, ties: 1, minVotes: 2 });
  });
});
