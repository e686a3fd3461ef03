// pair-tasks.ts: queued preference pairs of the feedback store as annotation tasks. A pair takes up to
// `labelsPerPair` labels (skips do not count), each from a different annotator; labels go in the store's
// `annotations` table, where 'left' names the stored preferred_* side whatever side the screen showed.
import type { Statement } from 'better-sqlite3';
import type { FeedbackStore } from '../data/store/feedback-store.js';
import type { LeaseRequest, Progress, ShownChoice, StoredLabel, Task, TaskSource } from './task-source.js';
import { storedSide } from './task-source.js';
import { statement } from './statements.js';

// Labels that count against the quota, and other people's open leases, of pair p.id.
const FILLED = `(SELECT count(*) FROM annotations a WHERE a.pair_id = p.id AND a.choice != 'skip')`;
const OPEN_LEASES = `(SELECT count(*) FROM annotate_leases l WHERE l.kind = 'pair' AND l.target_id = p.id AND l.done_at IS NULL AND l.expires_at > @now AND l.id != @except)`;
const NOT_MINE = `NOT EXISTS (SELECT 1 FROM annotations m WHERE m.pair_id = p.id AND m.annotator = @annotator)`;

export class PairTasks implements TaskSource {
  readonly kind = 'pair' as const;
  private readonly store: FeedbackStore;
  private readonly quota: number;

  constructor(store: FeedbackStore, labelsPerPair: number) {
    this.store = store;
    this.quota = labelsPerPair;
  }

  private sql(text: string): Statement {
    return statement(this.store.db, text);
  }

  setIdOf(): null {
    return null;
  }

  next(annotator: string, request: LeaseRequest, now: number): number | undefined {
    const dimension = request.kind === 'pair' ? request.dimension : undefined;
    // The first pair in id order with room. `+p.labelled` keeps SQLite on the rowid order, so the scan
    // stops at the first pair with room instead of testing every queued pair and sorting. With several
    // labels per pair this hands a started pair to the next person first (agreement data comes early).
    return this.sql(`SELECT p.id FROM pairs p
      WHERE +p.labelled = 0 ${dimension !== undefined ? 'AND +p.dimension = @dimension' : ''} AND ${NOT_MINE} AND ${FILLED} + ${OPEN_LEASES} < @quota
      ORDER BY p.id LIMIT 1`).pluck().get({ annotator, dimension, now, quota: this.quota, except: '' }) as number | undefined;
  }

  task(id: number): Task | undefined {
    const r = this.sql(`SELECT p.id, p.dimension, p.preferred_image_id AS fi, p.rejected_image_id AS si, pp.text AS fp, rp.text AS sp
      FROM pairs p JOIN prompts pp ON pp.id = p.preferred_prompt_id JOIN prompts rp ON rp.id = p.rejected_prompt_id
      WHERE p.id = ?`).get(id) as { id: number; dimension: string; fi: number; si: number; fp: string; sp: string } | undefined;
    return r && { id: r.id, setId: null, dimension: r.dimension, first: { prompt: r.fp, imageId: r.fi }, second: { prompt: r.sp, imageId: r.si } };
  }

  hasRoom(id: number, annotator: string, now: number, exceptLease: string): boolean {
    return this.sql(`SELECT 1 FROM pairs p WHERE p.id = @id AND p.labelled = 0 AND ${NOT_MINE} AND ${FILLED} + ${OPEN_LEASES} < @quota`)
      .get({ id, annotator, now, quota: this.quota, except: exceptLease }) !== undefined;
  }

  labelOf(id: number, annotator: string): StoredLabel | undefined {
    const r = this.sql('SELECT choice, created_at, time_spent_ms FROM annotations WHERE pair_id = ? AND annotator = ?').get(id, annotator) as
      { choice: string; created_at: number; time_spent_ms: number } | undefined;
    return r && { stored: r.choice, createdAt: r.created_at, timeSpentMs: r.time_spent_ms };
  }

  write(id: number, annotator: string, shown: ShownChoice, swapped: boolean, now: number, timeSpentMs: number): StoredLabel {
    const choice = storedSide(shown, swapped, 'left', 'right');
    const a = this.store.annotate({ pairId: id, annotator, choice, timeSpentMs, createdAt: now });
    return { stored: a.choice, createdAt: a.createdAt, timeSpentMs: a.timeSpentMs };
  }

  progress(annotator: string, request: LeaseRequest): Progress {
    const dimension = request.kind === 'pair' ? request.dimension : undefined;
    const dim = dimension !== undefined ? 'AND p.dimension = @dimension' : '';
    const args = { annotator, dimension, quota: this.quota };
    const mine = this.sql(`SELECT sum(a.choice != 'skip') AS labelled, sum(a.choice = 'skip') AS skipped
      FROM annotations a JOIN pairs p ON p.id = a.pair_id WHERE a.annotator = @annotator ${dim}`).get(args) as { labelled: number | null; skipped: number | null };
    // remaining = queued pairs - those this annotator labelled or that are full: counted over the
    // annotations, not over every queued pair
    const queued = this.sql(`SELECT count(*) FROM pairs p WHERE p.labelled = 0 ${dim}`).pluck().get(args) as number;
    const closed = this.sql(`SELECT count(*) FROM pairs p WHERE p.id IN (
        SELECT pair_id FROM annotations WHERE annotator = @annotator
        UNION SELECT pair_id FROM annotations WHERE choice != 'skip' GROUP BY pair_id HAVING count(*) >= @quota)
      AND p.labelled = 0 ${dim}`).pluck().get(args) as number;
    return { labelled: mine.labelled ?? 0, skipped: mine.skipped ?? 0, remaining: queued - closed };
  }
}
