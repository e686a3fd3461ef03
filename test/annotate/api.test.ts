// The JSON API over loopback: tokens, leases, labels (idempotent), bad bodies, other people's leases and
// labels, admin export, A/B sets. Each test checks what was written, not only the status.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnnotationServer, type RunningServer } from '../../src/annotate/run-server.js';
import { call, queuedStore, removeTempDirs, sceneImage, users } from './helpers.js';

let server: RunningServer;
let url: string;
let tokens: Record<string, string>;
const count = (sql: string): number => server.store.db.prepare(sql).pluck().get() as number;

beforeAll(async () => {
  const { dir, store } = await queuedStore({ pairs: 12, pixels: true });
  tokens = users(store, ['alice', 'bob', 'carol'], ['root']);
  store.close();
  server = await startAnnotationServer({ storeDir: dir, labelsPerPair: 2 });
  url = server.url;
});
afterAll(async () => {
  await server?.close();
  removeTempDirs();
});

describe('tokens', () => {
  it('answers 401 without a token, with a wrong one or a malformed header, and writes nothing', async () => {
    const before = [count('SELECT count(*) FROM annotations'), count('SELECT count(*) FROM annotate_leases')];
    const none = await call(url, 'POST', '/api/leases', undefined, { kind: 'pair' });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'Expected "Authorization: Bearer <token>" but received no bearer token' });
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await call(url, 'POST', '/api/leases', 'trw_' + 'x'.repeat(43), { kind: 'pair' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'Expected a valid token in the Authorization header but received an unknown token' });
    const basic = await call(url, 'GET', '/api/me', undefined, undefined, { authorization: `Basic ${tokens.alice}` });
    expect(basic.status).toBe(401);
    for (const path of ['/api/me', '/api/export', '/api/ab', '/api/labels', '/api/leases/AAAAAAAAAAAAAAAAAAAAAA/left']) {
      expect((await call(url, 'GET', path)).status, path).toBe(401);
    }
    const label = await call(url, 'POST', '/api/labels', 'nope', { lease: 'AAAAAAAAAAAAAAAAAAAAAA', choice: 'left' });
    expect(label.status).toBe(401);
    expect([count('SELECT count(*) FROM annotations'), count('SELECT count(*) FROM annotate_leases')]).toEqual(before);
  });

  it('says who a token belongs to, the guides and what is queued', async () => {
    const me = await call(url, 'GET', '/api/me', tokens.alice);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: 'alice', admin: false, labelsPerPair: 2, leaseMs: 300_000 });
    expect(me.body.guides.lighting).toBe('Is the light as the prompt asks, and is the image well exposed, without clipped highlights or crushed shadows?');
    expect(Object.keys(me.body.guides).sort()).toEqual(['color', 'content', 'detail', 'layout', 'lighting', 'overall', 'style']);
    expect(me.body.queued.reduce((a: number, d: { pairs: number }) => a + d.pairs, 0)).toBe(12);
    expect((await call(url, 'GET', '/api/me', tokens.root)).body).toMatchObject({ name: 'root', admin: true });
  });
});

describe('leases and labels', () => {
  it('stores a label once however often it is sent, and refuses a different one for the same lease', async () => {
    const lease = await call(url, 'POST', '/api/leases', tokens.alice, { kind: 'pair', dimension: 'color' });
    expect(lease.status).toBe(200);
    const l = lease.body.lease;
    expect(l).toMatchObject({ kind: 'pair', dimension: 'color', set: null });
    expect(l.guide).toMatch(/^Is the palette/);
    expect(l.left.image).toBe(`/api/leases/${l.id}/left`);
    // asking again returns the same lease, renewed
    const again = await call(url, 'POST', '/api/leases', tokens.alice, { kind: 'pair', dimension: 'color' });
    expect(again.body.lease.id).toBe(l.id);
    const img = await fetch(new URL(l.left.image, url), { headers: { authorization: `Bearer ${tokens.alice}` } });
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect((await sharp(Buffer.from(await img.arrayBuffer())).metadata()).width).toBe(64);

    const body = { lease: l.id, choice: 'left', timeSpentMs: 1500 };
    const first = await call(url, 'POST', '/api/labels', tokens.alice, body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ lease: l.id, kind: 'pair', taskId: l.taskId, choice: 'left', duplicate: false });
    expect(first.body.timeSpentMs).toBeLessThanOrEqual(1500);
    const second = await call(url, 'POST', '/api/labels', tokens.alice, body);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, duplicate: true });
    const other = await call(url, 'POST', '/api/labels', tokens.alice, { ...body, choice: 'right' });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe(`Expected one label per lease but lease ${l.id} already has "left"`);
    const rows = server.store.annotationsOf(l.taskId);
    expect(rows).toHaveLength(1);
    // 'left' on screen is stored as the side that was shown there
    const shown = server.store.db.prepare('SELECT left_image_id FROM annotate_leases WHERE id = ?').pluck().get(l.id) as number;
    const pair = server.store.getPair(l.taskId)!;
    expect(rows[0]).toMatchObject({ annotator: 'alice', choice: shown === pair.preferred.image.id ? 'left' : 'right', timeSpentMs: first.body.timeSpentMs });
    expect(first.body.stored).toBe(rows[0].choice);
    // own label: visible to alice, not to bob
    expect((await call(url, 'GET', `/api/labels/${l.taskId}`, tokens.alice)).body).toMatchObject({ pairId: l.taskId, choice: rows[0].choice });
    const bobs = await call(url, 'GET', `/api/labels/${l.taskId}`, tokens.bob);
    expect(bobs.status).toBe(404);
    expect(bobs.body.error).toBe(`Expected a pair you labelled for pairId but received ${l.taskId}, which you have not labelled`);
    expect((await call(url, 'GET', '/api/labels', tokens.bob)).body).toEqual({ labels: [] });
    expect((await call(url, 'GET', '/api/labels', tokens.alice)).body.labels.map((x: { pairId: number }) => x.pairId)).toEqual([l.taskId]);
  });

  it("refuses another annotator's lease: label, image and release (403), and changes nothing", async () => {
    const mine = (await call(url, 'POST', '/api/leases', tokens.carol, { kind: 'pair' })).body.lease;
    const before = count('SELECT count(*) FROM annotations');
    const steal = await call(url, 'POST', '/api/labels', tokens.bob, { lease: mine.id, choice: 'right' });
    expect(steal.status).toBe(403);
    expect(steal.body.error).toBe('Expected a lease of yours for lease but received one held by another annotator');
    expect((await call(url, 'GET', mine.left.image, tokens.bob)).status).toBe(403);
    expect((await call(url, 'DELETE', `/api/leases/${mine.id}`, tokens.bob)).status).toBe(403);
    expect(count('SELECT count(*) FROM annotations')).toBe(before);
    // carol's lease is intact: she can still label it
    expect((await call(url, 'POST', '/api/labels', tokens.carol, { lease: mine.id, choice: 'tie', timeSpentMs: 900 })).status).toBe(201);
  });

  it('answers 404 for a lease or pair id that does not exist', async () => {
    const noLease = await call(url, 'POST', '/api/labels', tokens.alice, { lease: 'AAAAAAAAAAAAAAAAAAAAAA', choice: 'left' });
    expect(noLease.status).toBe(404);
    expect(noLease.body.error).toBe('Expected the id of a lease for lease but received "AAAAAAAAAAAAAAAAAAAAAA"');
    expect((await call(url, 'GET', '/api/leases/AAAAAAAAAAAAAAAAAAAAAA/left', tokens.alice)).status).toBe(404);
    expect((await call(url, 'GET', '/api/leases/short/left', tokens.alice)).status).toBe(404);
    const noPair = await call(url, 'GET', '/api/labels/999999', tokens.alice);
    expect(noPair.status).toBe(404);
    expect(noPair.body.error).toBe('Expected the id of a stored pair for pairId but received "999999"');
    expect((await call(url, 'GET', '/api/labels/abc', tokens.alice)).status).toBe(404);
    const noSet = await call(url, 'POST', '/api/leases', tokens.alice, { kind: 'ab', set: 'no-such-set' });
    expect(noSet.status).toBe(404);
    expect(noSet.body.error).toBe('Expected the name of an A/B set for set but received "no-such-set"');
    expect((await call(url, 'GET', '/api/nothing', tokens.alice)).status).toBe(404);
  });

  it('answers malformed bodies with 400 (415 for a non-JSON body) and a message, writing nothing', async () => {
    const lease = (await call(url, 'POST', '/api/leases', tokens.bob, { kind: 'pair' })).body.lease;
    const before = count('SELECT count(*) FROM annotations');
    const cases: [unknown, number, string][] = [
      ['{"lease": ', 400, 'Expected a JSON body but received invalid JSON'],
      ['', 400, 'Expected a JSON body but received an empty body'],
      ['[1, 2]', 400, 'Expected object for the body but received [1,2]'],
      [{ lease: lease.id }, 400, 'Expected "left" or "right" or "tie" or "skip" for choice but received nothing'],
      [{ lease: lease.id, choice: 'up' }, 400, 'Expected "left" or "right" or "tie" or "skip" for choice but received "up"'],
      [{ lease: lease.id, choice: 'left', timeSpentMs: -5 }, 400, 'Expected number to be >=0 for timeSpentMs but received -5'],
      [{ lease: lease.id, choice: 'left', timeSpentMs: '5' }, 400, 'Expected number for timeSpentMs but received "5"'],
      [{ lease: lease.id, choice: 'left', pairId: 3 }, 400, 'Expected no other keys in the body but received "pairId"'],
      [{ lease: 42, choice: 'left' }, 400, 'Expected string for lease but received 42'],
    ];
    for (const [body, status, error] of cases) {
      const r = await call(url, 'POST', '/api/labels', tokens.bob, body);
      expect([r.status, r.body], JSON.stringify(body)).toEqual([status, { error }]);
    }
    const form = await call(url, 'POST', '/api/labels', tokens.bob, 'choice=left', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body.error).toBe('Expected content-type application/json for the body but received "application/x-www-form-urlencoded"');
    const badKind = await call(url, 'POST', '/api/leases', tokens.bob, { kind: 'everything' });
    expect([badKind.status, badKind.body.error]).toEqual([400, 'Expected "pair" or "ab" for kind but received "everything"']);
    expect(count('SELECT count(*) FROM annotations')).toBe(before);
    // the lease is untouched and still takes a good label
    expect((await call(url, 'POST', '/api/labels', tokens.bob, { lease: lease.id, choice: 'skip' })).status).toBe(201);
  });

  it('gives a pair to two different annotators at most (labels-per-pair 2), never twice to one', async () => {
    const seen = new Map<number, string[]>();
    for (const who of ['alice', 'bob', 'carol']) {
      for (let k = 0; k < 30; k++) {
        const r = await call(url, 'POST', '/api/leases', tokens[who], { kind: 'pair' });
        if (!r.body.lease) break;
        const l = r.body.lease;
        seen.set(l.taskId, [...(seen.get(l.taskId) ?? []), who]);
        expect((await call(url, 'POST', '/api/labels', tokens[who], { lease: l.id, choice: k % 3 === 0 ? 'tie' : 'left' })).status).toBe(201);
      }
    }
    const filled = server.store.db.prepare(`SELECT pair_id, count(*) AS n, count(DISTINCT annotator) AS who FROM annotations WHERE choice != 'skip' GROUP BY pair_id`).all() as { n: number; who: number }[];
    expect(filled.every((f) => f.n <= 2 && f.who === f.n)).toBe(true);
    expect(count(`SELECT count(*) FROM annotations WHERE choice != 'skip'`)).toBe(24); // 12 pairs x 2
    for (const [, who] of seen) expect(new Set(who).size).toBe(who.length);
    const done = await call(url, 'POST', '/api/leases', tokens.alice, { kind: 'pair' });
    expect(done.body).toEqual({ lease: null, progress: { labelled: expect.any(Number), skipped: 0, remaining: 0 } });
  });
});

describe('admin', () => {
  it('exports labels as JSON lines for an admin token only', async () => {
    const denied = await call(url, 'GET', '/api/export', tokens.alice);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('Expected an admin token for GET /api/export but received the token of annotator "alice"');
    const res = await fetch(new URL('/api/export?kind=pair', url), { headers: { authorization: `Bearer ${tokens.root}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(count('SELECT count(*) FROM annotations'));
    expect(lines[0]).toMatchObject({ type: 'pair', annotator: 'alice', dimension: 'color', shownLeft: expect.stringMatching(/^(left|right)$/) });
    expect(lines[0].left.image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(lines.map((l) => l.annotator))).toEqual(new Set(['alice', 'bob', 'carol']));
  });
});

describe('A/B sets', () => {
  it('creates a set from base64 images (admin), serves it with random sides and summarises win/tie/loss', async () => {
    const png = async (seed: number): Promise<string> => {
      const img = sceneImage(seed);
      return (await sharp(img.data, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer()).toString('base64');
    };
    const items = await Promise.all([0, 1, 2, 3].map(async (i) => ({ prompt: `prompt ${i}`, dimension: i < 2 ? 'lighting' : 'color', a: await png(100 + i), b: await png(200 + i) })));
    const body = { name: 'tree-vs-base', modelA: 'tree', modelB: 'base', items };
    expect((await call(url, 'POST', '/api/ab', tokens.alice, body)).status).toBe(403);
    const bad = await call(url, 'POST', '/api/ab', tokens.root, { ...body, items: [{ ...items[0], a: 'bm90IGFuIGltYWdl' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^Expected a decodable image for items\[0\]\.a/);
    const made = await call(url, 'POST', '/api/ab', tokens.root, body);
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ inserted: 4, duplicates: 0, set: { name: 'tree-vs-base', items: 4, labelsPerItem: null } });
    expect((await call(url, 'GET', '/api/ab', tokens.bob)).body.sets.map((s: { name: string }) => s.name)).toEqual(['tree-vs-base']);

    // alice and bob both label every item: alice always picks A (wherever it is shown), bob picks B but ties prompt 3
    const aImages = new Map<number, number>();
    for (const who of ['alice', 'bob']) {
      for (;;) {
        const r = await call(url, 'POST', '/api/leases', tokens[who], { kind: 'ab', set: 'tree-vs-base' });
        if (!r.body.lease) break;
        const l = r.body.lease;
        expect(l).toMatchObject({ kind: 'ab', set: 'tree-vs-base' });
        expect(l.left.prompt).toBe(l.right.prompt);
        const row = server.store.db.prepare('SELECT swapped, target_id FROM annotate_leases WHERE id = ?').get(l.id) as { swapped: number; target_id: number };
        aImages.set(row.target_id, row.swapped);
        const aSide = row.swapped ? 'right' : 'left';
        const choice = who === 'alice' ? aSide : l.left.prompt === 'prompt 3' ? 'tie' : aSide === 'left' ? 'right' : 'left';
        expect((await call(url, 'POST', '/api/labels', tokens[who], { lease: l.id, choice })).status).toBe(201);
      }
    }
    expect((await call(url, 'GET', '/api/ab/tree-vs-base/summary', tokens.alice)).status).toBe(403);
    const s = (await call(url, 'GET', '/api/ab/tree-vs-base/summary', tokens.root)).body;
    expect(s).toMatchObject({ set: 'tree-vs-base', modelA: 'tree', modelB: 'base', items: 4, labelledItems: 4, annotators: ['alice', 'bob'] });
    expect(s.overall).toMatchObject({ win: 4, tie: 1, loss: 3, skip: 0, labels: 8 });
    expect(s.byAnnotator).toEqual([
      expect.objectContaining({ annotator: 'alice', win: 4, tie: 0, loss: 0, winRate: 1 }),
      expect.objectContaining({ annotator: 'bob', win: 0, tie: 1, loss: 3 }),
    ]);
    expect(s.byPrompt).toMatchObject({ win: 1, tie: 3, loss: 0 }); // prompt 3: win + tie -> win; others win + loss -> tie
    expect(s.perItem.find((i: { prompt: string }) => i.prompt === 'prompt 3')).toMatchObject({ outcome: 'win', byAnnotator: { alice: 'win', bob: 'tie' } });
    expect(s.byDimension.map((d: { dimension: string; win: number }) => [d.dimension, d.win])).toEqual([['color', 2], ['lighting', 2]]);
    expect((await call(url, 'GET', '/api/ab/nope/summary', tokens.root)).status).toBe(404);
  });
});
