// 20 simulated annotators at once against a server in a child process, over loopback: no error answers,
// no pair beyond its quota, no acknowledged label lost; then the same under a kill -9 mid-load.
import { afterAll, describe, expect, it } from 'vitest';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { call, childServer, queuedStore, removeTempDirs, users } from './helpers.js';
import { runAnnotators, type Ack } from './load.js';

afterAll(removeTempDirs);

const ANNOTATORS = Array.from({ length: 20 }, (_, i) => `annotator-${String(i + 1).padStart(2, '0')}`);

async function setup(pairs: number): Promise<{ dir: string; tokens: Record<string, string>; admin: string }> {
  const { dir, store } = await queuedStore({ pairs });
  const tokens = users(store, ANNOTATORS);
  const admin = users(store, [], ['root']).root;
  store.close();
  return { dir, tokens, admin };
}

/** Every acknowledged label is in the store, as acknowledged; quotas hold. */
function checkStore(dir: string, acks: Ack[], quota: number): { labels: number } {
  const store = FeedbackStore.open(dir);
  try {
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const get = store.db.prepare('SELECT choice FROM annotations WHERE pair_id = ? AND annotator = ?').pluck();
    const missing = acks.filter((a) => get.get(a.taskId, a.annotator) !== a.stored);
    expect(missing).toEqual([]);
    const over = store.db.prepare(`SELECT pair_id, count(*) AS n FROM annotations WHERE choice != 'skip' GROUP BY pair_id HAVING n > ?`).all(quota);
    expect(over).toEqual([]);
    return { labels: store.db.prepare('SELECT count(*) FROM annotations').pluck().get() as number };
  } finally {
    store.close();
  }
}

describe('20 annotators at once', () => {
  it('labels for a few seconds with no error answers, no pair over quota and no label lost; SIGTERM stops it cleanly', async () => {
    const { dir, tokens } = await setup(3000);
    const server = await childServer(dir, ['--labels-per-pair', '2']);
    const load = await runAnnotators(server.url, tokens, { seconds: 3 });
    const rps = load.requests / load.seconds;
    console.log(`[annotate load] 20 annotators, ${load.seconds.toFixed(1)} s: ${load.requests} requests (${rps.toFixed(0)} requests/s), ${load.acks.length} labels (${(load.acks.length / load.seconds).toFixed(0)} labels/s)`);
    expect(load.errors).toEqual([]);
    expect(load.dropped).toBe(0);
    expect(load.acks.length).toBeGreaterThan(20); // real load (the figure depends on what else runs on the machine)
    server.proc.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim().split('\n').at(-1)).toBe('{"stopped":true}');
    const { labels } = checkStore(dir, load.acks, 2);
    expect(labels).toBe(load.acks.length); // nothing stored that was not acknowledged either
  });

  it('stops cleanly on SIGTERM in the middle of the load: requests in flight finish, nothing acknowledged is lost', async () => {
    const { dir, tokens } = await setup(3000);
    const server = await childServer(dir);
    const load = await runAnnotators(server.url, tokens, { seconds: 10, onStart: () => setTimeout(() => server.proc.kill('SIGTERM'), 1500) });
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim().split('\n').at(-1)).toBe('{"stopped":true}');
    // once closing, the server answers 503 or refuses connections; never a 500
    expect(load.errors.filter((e) => !/: 503 /.test(e))).toEqual([]);
    expect(load.acks.length).toBeGreaterThan(5);
    const { labels } = checkStore(dir, load.acks, 1);
    expect(labels).toBe(load.acks.length); // a clean stop answers every label it stored
  });

  it('loses no acknowledged label when the server is killed with SIGKILL mid-load', async () => {
    const { dir, tokens, admin } = await setup(3000);
    const server = await childServer(dir);
    const result = await runAnnotators(server.url, tokens, { seconds: 10, onStart: () => setTimeout(() => server.proc.kill('SIGKILL'), 1500) });
    const exit = await server.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(result.errors).toEqual([]);
    expect(result.dropped).toBeGreaterThan(0); // requests were in flight when it died
    expect(result.acks.length).toBeGreaterThan(5);
    // restart on the same store: every acknowledged label is there, through the API too
    const again = await childServer(dir);
    const exported = await fetch(new URL('/api/export?kind=pair', again.url), { headers: { authorization: `Bearer ${admin}` } });
    const lines = (await exported.text()).trim().split('\n').map((l) => JSON.parse(l) as { pairId: number; annotator: string; choice: string });
    const stored = new Map(lines.map((l) => [`${l.pairId}/${l.annotator}`, l.choice]));
    expect(result.acks.filter((a) => stored.get(`${a.taskId}/${a.annotator}`) !== a.stored)).toEqual([]);
    // at most the labels in flight at the kill were stored without an answer
    expect(lines.length - result.acks.length).toBeGreaterThanOrEqual(0);
    expect(lines.length - result.acks.length).toBeLessThanOrEqual(ANNOTATORS.length);
    // and the restarted server goes on handing out work
    expect((await call(again.url, 'POST', '/api/leases', tokens[ANNOTATORS[0]], { kind: 'pair' })).body.lease).not.toBeNull();
    again.proc.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
    checkStore(dir, result.acks, 1);
  });
});
