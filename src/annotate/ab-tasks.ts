// ab-tasks.ts: the items of an A/B comparison set as annotation tasks. Each annotator labels an item at
// most once; a set with `labels_per_item` stops handing an item out once that many people labelled it.
// Items come in a random order, so the order of prompts does not line up across annotators.
import type { Statement } from 'better-sqlite3';
import type { FeedbackStore } from '../data/store/feedback-store.js';
import { ApiError } from './api-error.js';
import type { LeaseRequest, Progress, ShownChoice, StoredLabel, Task, TaskSource } from './task-source.js';
import { storedSide } from './task-source.js';
import { statement } from './statements.js';

const FILLED = `(SELECT count(*) FROM ab_labels x WHERE x.item_id = i.id AND x.outcome != 'skip')`;
const OPEN_LEASES = `(SELECT count(*) FROM annotate_leases l WHERE l.kind = 'ab' AND l.target_id = i.id AND l.done_at IS NULL AND l.expires_at > @now AND l.id != @except)`;
const NOT_MINE = `NOT EXISTS (SELECT 1 FROM ab_labels m WHERE m.item_id = i.id AND m.annotator = @annotator)`;
// no quota (NULL): always room
const HAS_ROOM = `(s.labels_per_item IS NULL OR ${FILLED} + ${OPEN_LEASES} < s.labels_per_item)`;

export class AbTasks implements TaskSource {
  readonly kind = 'ab' as const;
  private readonly store: FeedbackStore;

  constructor(store: FeedbackStore) {
    this.store = store;
  }

  private sql(text: string): Statement {
    return statement(this.store.db, text);
  }

  setIdOf(request: LeaseRequest): number {
    const name = request.kind === 'ab' ? request.set : '';
    const id = this.sql('SELECT id FROM ab_sets WHERE name = ?').pluck().get(name) as number | undefined;
    if (id === undefined) throw new ApiError(404, `Expected the name of an A/B set for set but received ${JSON.stringify(name)}`);
    return id;
  }

  next(annotator: string, request: LeaseRequest, now: number): number | undefined {
    const setId = this.setIdOf(request);
    return this.sql(`SELECT i.id FROM ab_items i JOIN ab_sets s ON s.id = i.set_id
      WHERE i.set_id = @setId AND ${NOT_MINE} AND ${HAS_ROOM}
      ORDER BY ${FILLED} DESC, random() LIMIT 1`).pluck().get({ setId, annotator, now, except: '' }) as number | undefined;
  }

  task(id: number): Task | undefined {
    const r = this.sql('SELECT id, set_id, prompt, dimension, a_image_id, b_image_id FROM ab_items WHERE id = ?').get(id) as
      { id: number; set_id: number; prompt: string; dimension: string | null; a_image_id: number; b_image_id: number } | undefined;
    return r && { id: r.id, setId: r.set_id, dimension: r.dimension, first: { prompt: r.prompt, imageId: r.a_image_id }, second: { prompt: r.prompt, imageId: r.b_image_id } };
  }

  hasRoom(id: number, annotator: string, now: number, exceptLease: string): boolean {
    return this.sql(`SELECT 1 FROM ab_items i JOIN ab_sets s ON s.id = i.set_id WHERE i.id = @id AND ${NOT_MINE} AND ${HAS_ROOM}`)
      .get({ id, annotator, now, except: exceptLease }) !== undefined;
  }

  labelOf(id: number, annotator: string): StoredLabel | undefined {
    const r = this.sql('SELECT outcome, created_at, time_spent_ms FROM ab_labels WHERE item_id = ? AND annotator = ?').get(id, annotator) as
      { outcome: string; created_at: number; time_spent_ms: number } | undefined;
    return r && { stored: r.outcome, createdAt: r.created_at, timeSpentMs: r.time_spent_ms };
  }

  write(id: number, annotator: string, shown: ShownChoice, swapped: boolean, now: number, timeSpentMs: number, leaseId: string): StoredLabel {
    const outcome = storedSide(shown, swapped, 'a', 'b');
    this.sql(`INSERT INTO ab_labels (item_id, annotator, outcome, a_shown_left, created_at, time_spent_ms, lease_id) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(id, annotator, outcome, swapped ? 0 : 1, now, timeSpentMs, leaseId);
    return { stored: outcome, createdAt: now, timeSpentMs };
  }

  progress(annotator: string, request: LeaseRequest): Progress {
    const setId = this.setIdOf(request);
    const mine = this.sql(`SELECT sum(x.outcome != 'skip') AS labelled, sum(x.outcome = 'skip') AS skipped
      FROM ab_labels x JOIN ab_items i ON i.id = x.item_id WHERE i.set_id = ? AND x.annotator = ?`).get(setId, annotator) as { labelled: number | null; skipped: number | null };
    const remaining = this.sql(`SELECT count(*) FROM ab_items i JOIN ab_sets s ON s.id = i.set_id
      WHERE i.set_id = @setId AND ${NOT_MINE} AND (s.labels_per_item IS NULL OR ${FILLED} < s.labels_per_item)`).pluck().get({ setId, annotator }) as number;
    return { labelled: mine.labelled ?? 0, skipped: mine.skipped ?? 0, remaining };
  }
}
