// The work queue without HTTP, on a clock the test moves: lease expiry, side randomisation and its
// record, release, dimension filters, and which late labels are still taken.
import { afterAll, describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/annotate/work-queue.js';
import { queuedStore, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('WorkQueue', () => {
  it('holds a pair for its annotator until the lease expires, then gives it to the next one', async () => {
    const { store } = await queuedStore({ pairs: 3 });
    const c = clock();
    const q = new WorkQueue(store, { leaseMs: 60_000, now: c.now });
    const a = q.lease('alice', { kind: 'pair' }).lease!;
    const b = q.lease('bob', { kind: 'pair' }).lease!;
    expect(b.taskId).not.toBe(a.taskId);
    c.advance(60_001); // alice's lease has expired; bob's has too
    const carol = q.lease('carol', { kind: 'pair' }).lease!;
    expect(carol.taskId).toBe(a.taskId);
    // alice's late label: her pair went to carol, so it is refused; nothing is written
    expect(() => q.submit('alice', a.id, 'left', 1000)).toThrow('Expected an open lease for lease but received one that expired, and its task went to others (ask for the next task)');
    expect(store.annotationsOf(a.taskId)).toEqual([]);
    // bob's late label: nobody took his pair, so it is kept
    expect(q.submit('bob', b.id, 'tie', 2000)).toMatchObject({ stored: 'tie', duplicate: false, timeSpentMs: 2000 });
    store.close();
  });

  it('shows either stored side on the left, records which, and maps the click back', async () => {
    const { store } = await queuedStore({ pairs: 8 });
    let flip = 0;
    const q = new WorkQueue(store, { coin: () => flip++ % 2 });
    for (let i = 0; i < 8; i++) {
      const l = q.lease('alice', { kind: 'pair' }).lease!;
      const pair = store.getPair(l.taskId)!;
      const row = store.db.prepare('SELECT swapped, left_image_id, right_image_id FROM annotate_leases WHERE id = ?').get(l.id) as { swapped: number; left_image_id: number; right_image_id: number };
      expect(row.swapped).toBe(i % 2);
      expect([row.left_image_id, row.right_image_id]).toEqual(i % 2 ? [pair.rejected.image.id, pair.preferred.image.id] : [pair.preferred.image.id, pair.rejected.image.id]);
      const r = q.submit('alice', l.id, 'left', 10);
      expect(r.stored).toBe(i % 2 ? 'right' : 'left');
      expect(store.annotationsOf(l.taskId)[0].choice).toBe(r.stored);
      expect(q.imageOf('alice', l.id, 'left')).toEqual({ path: store.imagePath(i % 2 ? pair.rejected.image : pair.preferred.image), stored: false });
    }
    store.close();
  });

  it('keeps a fair coin by default: both orders occur', async () => {
    const { store } = await queuedStore({ pairs: 40 });
    const q = new WorkQueue(store);
    for (let i = 0; i < 40; i++) q.submit('alice', q.lease('alice', { kind: 'pair' }).lease!.id, 'skip', 1);
    const swapped = store.db.prepare('SELECT sum(swapped) FROM annotate_leases').pluck().get() as number;
    expect(swapped).toBeGreaterThan(5);
    expect(swapped).toBeLessThan(35); // P(outside) < 1e-6 for a fair coin
    store.close();
  });

  it('filters by dimension, releases the held lease when the request changes, and on release()', async () => {
    const { store } = await queuedStore({ pairs: 12 });
    const c = clock();
    const q = new WorkQueue(store, { now: c.now });
    const light = q.lease('alice', { kind: 'pair', dimension: 'lighting' }).lease!;
    expect(light.dimension).toBe('lighting');
    const color = q.lease('alice', { kind: 'pair', dimension: 'color' }).lease!;
    expect(color.dimension).toBe('color');
    // the lighting pair is free again: bob gets it at once
    expect(q.lease('bob', { kind: 'pair', dimension: 'lighting' }).lease!.taskId).toBe(light.taskId);
    // switching to an A/B set releases the pair lease too
    store.db.exec(`INSERT INTO ab_sets (name, model_a, model_b, created_at) VALUES ('s', 'a', 'b', 0)`);
    expect(q.lease('alice', { kind: 'ab', set: 's' }).lease).toBeNull(); // the set is empty
    expect(q.lease('dave', { kind: 'pair', dimension: 'color' }).lease!.taskId).toBe(color.taskId);
    q.release('dave', q.lease('dave', { kind: 'pair', dimension: 'color' }).lease!.id);
    q.release('alice', color.id);
    expect(q.lease('carol', { kind: 'pair', dimension: 'color' }).lease!.taskId).toBe(color.taskId);
    expect(() => q.release('bob', color.id)).toThrow('Expected a lease of yours for lease but received one held by another annotator');
    expect(q.progress('alice', { kind: 'pair', dimension: 'lighting' })).toEqual({ labelled: 0, skipped: 0, remaining: 2 });
    store.close();
  });

  it('does not let a second lease on the same pair replace a label', async () => {
    const { store } = await queuedStore({ pairs: 1 });
    const c = clock();
    const q = new WorkQueue(store, { leaseMs: 1000, now: c.now });
    const first = q.lease('alice', { kind: 'pair' }).lease!;
    c.advance(2000);
    const second = q.lease('alice', { kind: 'pair' }).lease!; // the same pair, under a new lease
    expect(second.id).not.toBe(first.id);
    expect(second.taskId).toBe(first.taskId);
    q.submit('alice', second.id, 'right', 5);
    expect(() => q.submit('alice', first.id, 'left', 5)).toThrow('Expected a task you have not labelled for lease but received one you labelled under another lease');
    expect(store.annotationsOf(first.taskId).map((a) => a.annotator)).toEqual(['alice']);
    expect(q.lease('alice', { kind: 'pair' }).lease).toBeNull();
    store.close();
  });

  it('skips do not count against the quota: a skipped pair goes to someone else', async () => {
    const { store } = await queuedStore({ pairs: 1 });
    const q = new WorkQueue(store);
    const a = q.lease('alice', { kind: 'pair' }).lease!;
    q.submit('alice', a.id, 'skip', 5);
    expect(q.lease('alice', { kind: 'pair' }).lease).toBeNull();
    const b = q.lease('bob', { kind: 'pair' }).lease!;
    expect(b.taskId).toBe(a.taskId);
    q.submit('bob', b.id, 'left', 5);
    expect(q.lease('carol', { kind: 'pair' }).lease).toBeNull();
    expect(q.progress('alice', { kind: 'pair' })).toEqual({ labelled: 0, skipped: 1, remaining: 0 });
    expect(q.progress('bob', { kind: 'pair' })).toEqual({ labelled: 1, skipped: 0, remaining: 0 });
    store.close();
  });
});
