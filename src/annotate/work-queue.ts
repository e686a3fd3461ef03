// work-queue.ts: hands tasks out under leases and takes labels back. A lease gives one task to one
// annotator until it expires (default 5 minutes), so two people never label the same pair by accident;
// it fixes which stored side is shown on the left (a fair coin per lease), and its id makes a label
// idempotent: sending the same label twice stores it once. Every step is one IMMEDIATE transaction, so
// it is also safe with several server processes on one store.
import { randomBytes, randomInt } from 'node:crypto';
import type { FeedbackStore } from '../data/store/feedback-store.js';
import { ApiError } from './api-error.js';
import { AbTasks } from './ab-tasks.js';
import { guideOf } from './guides.js';
import { PairTasks } from './pair-tasks.js';
import { ensureAnnotateSchema } from './schema.js';
import { statement } from './statements.js';
import type { LeaseRequest, Progress, ShownChoice, TaskSource } from './task-source.js';

export const DEFAULT_LEASE_MS = 5 * 60_000;
/** Longest time a label may say was spent on it (longer is clamped): 1 hour. */
const MAX_TIME_SPENT_MS = 3_600_000;

export interface WorkQueueOptions {
  /** How long a lease holds a task for its annotator. Defaults to 5 minutes. */
  leaseMs?: number;
  /** Labels wanted per queued pair, each from a different annotator. Defaults to 1. */
  labelsPerPair?: number;
  /** The clock, in ms since the epoch. Defaults to Date.now. */
  now?: () => number;
  /** 0 or 1: whether to show the stored second side on the left. Defaults to a fair coin (crypto). */
  coin?: () => number;
  /**
   * Commit labels with synchronous = FULL (the WAL is fsynced before the label is acknowledged: it
   * survives a power cut, not only a crash). Leases keep the store's NORMAL: a lease lost to a power
   * cut costs nothing, and the next label's fsync covers the WAL frames before it. Defaults to true.
   */
  durableLabels?: boolean;
}

export interface LeaseSide {
  prompt: string;
  /** API path of the image (send the same Authorization header). */
  image: string;
}

export interface LeaseView {
  id: string;
  kind: LeaseRequest['kind'];
  /** The pair id (pairs) or item id (A/B). */
  taskId: number;
  set: string | null;
  dimension: string | null;
  guide: string;
  issuedAt: number;
  expiresAt: number;
  left: LeaseSide;
  right: LeaseSide;
}

export interface LabelResult {
  lease: string;
  kind: LeaseRequest['kind'];
  taskId: number;
  /** As clicked: the side of the screen. */
  choice: ShownChoice;
  /** As stored: pair left/right/tie/skip (left = the stored preferred_* side), A/B a/b/tie/skip. */
  stored: string;
  createdAt: number;
  timeSpentMs: number;
  /** The same label had already been stored under this lease; nothing was written. */
  duplicate: boolean;
}

interface LeaseRow {
  id: string;
  kind: LeaseRequest['kind'];
  target_id: number;
  set_id: number | null;
  dimension: string | null;
  annotator: string;
  swapped: number;
  left_image_id: number;
  right_image_id: number;
  issued_at: number;
  expires_at: number;
  done_at: number | null;
  shown_choice: ShownChoice | null;
  time_spent_ms: number | null;
}

export class WorkQueue {
  readonly store: FeedbackStore;
  readonly leaseMs: number;
  readonly labelsPerPair: number;
  private readonly now: () => number;
  private readonly coin: () => number;
  private readonly durableLabels: boolean;
  private readonly sources: Record<LeaseRequest['kind'], TaskSource>;

  constructor(store: FeedbackStore, options: WorkQueueOptions = {}) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.labelsPerPair = options.labelsPerPair ?? 1;
    if (!Number.isSafeInteger(this.leaseMs) || this.leaseMs < 1) throw new Error(`Expected a positive integer of milliseconds for leaseMs but received ${this.leaseMs}`);
    if (!Number.isSafeInteger(this.labelsPerPair) || this.labelsPerPair < 1) throw new Error(`Expected a positive integer for labelsPerPair but received ${this.labelsPerPair}`);
    ensureAnnotateSchema(store.db);
    this.store = store;
    this.now = options.now ?? Date.now;
    this.coin = options.coin ?? (() => randomInt(2));
    this.durableLabels = options.durableLabels ?? true;
    this.sources = { pair: new PairTasks(store, this.labelsPerPair), ab: new AbTasks(store) };
  }

  /**
   * The annotator's task: the lease they already hold for the same request (renewed), or a new one;
   * null when nothing is left for them. A held lease for another request (dimension, set or kind) is released.
   */
  lease(annotator: string, request: LeaseRequest): { lease: LeaseView | null; progress: Progress } {
    const source = this.sources[request.kind];
    const db = this.store.db;
    const row = db.transaction((): LeaseRow | undefined => {
      const now = this.now();
      const setId = source.setIdOf(request);
      const dimension = request.kind === 'pair' ? request.dimension ?? null : null;
      // One person works on one thing: open leases of other requests (another dimension, set or kind) are released.
      const open = statement(db, `SELECT * FROM annotate_leases WHERE annotator = ? AND done_at IS NULL AND expires_at > ?
        ORDER BY issued_at DESC`).all(annotator, now) as LeaseRow[];
      let held: LeaseRow | undefined;
      for (const l of open) {
        if (!held && l.kind === request.kind && l.set_id === setId && l.dimension === dimension && source.labelOf(l.target_id, annotator) === undefined) held = l;
        else statement(db, 'UPDATE annotate_leases SET expires_at = ? WHERE id = ?').run(now, l.id); // released
      }
      if (held) {
        statement(db, 'UPDATE annotate_leases SET expires_at = ? WHERE id = ?').run(now + this.leaseMs, held.id);
        return { ...held, expires_at: now + this.leaseMs };
      }
      const targetId = source.next(annotator, request, now);
      if (targetId === undefined) return undefined;
      const task = source.task(targetId)!;
      const swapped = this.coin() === 1;
      const [left, right] = swapped ? [task.second, task.first] : [task.first, task.second];
      const lease: LeaseRow = {
        id: randomBytes(16).toString('base64url'), kind: request.kind, target_id: targetId, set_id: setId, dimension, annotator,
        swapped: swapped ? 1 : 0, left_image_id: left.imageId, right_image_id: right.imageId,
        issued_at: now, expires_at: now + this.leaseMs, done_at: null, shown_choice: null, time_spent_ms: null,
      };
      statement(db, `INSERT INTO annotate_leases (id, kind, target_id, set_id, dimension, annotator, swapped, left_image_id, right_image_id, issued_at, expires_at)
        VALUES (@id, @kind, @target_id, @set_id, @dimension, @annotator, @swapped, @left_image_id, @right_image_id, @issued_at, @expires_at)`).run(lease);
      return lease;
    }).immediate();
    return { lease: row ? this.view(row) : null, progress: source.progress(annotator, request) };
  }

  private view(row: LeaseRow): LeaseView {
    const task = this.sources[row.kind].task(row.target_id)!;
    const [left, right] = row.swapped ? [task.second, task.first] : [task.first, task.second];
    const set = row.set_id === null ? null : (statement(this.store.db, 'SELECT name FROM ab_sets WHERE id = ?').pluck().get(row.set_id) as string);
    return {
      id: row.id, kind: row.kind, taskId: row.target_id, set, dimension: task.dimension, guide: guideOf(task.dimension),
      issuedAt: row.issued_at, expiresAt: row.expires_at,
      left: { prompt: left.prompt, image: `/api/leases/${row.id}/left` },
      right: { prompt: right.prompt, image: `/api/leases/${row.id}/right` },
    };
  }

  /** The lease, if it is the annotator's: 404 for an unknown id, 403 for someone else's. */
  private ownLease(annotator: string, leaseId: string): LeaseRow {
    const row = statement(this.store.db, 'SELECT * FROM annotate_leases WHERE id = ?').get(leaseId) as LeaseRow | undefined;
    if (!row) throw new ApiError(404, `Expected the id of a lease for lease but received ${JSON.stringify(leaseId)}`);
    if (row.annotator !== annotator) throw new ApiError(403, `Expected a lease of yours for lease but received one held by another annotator`);
    return row;
  }

  /**
   * Stores a label given under a lease, in one transaction. The same label again is answered from the
   * store (duplicate: true); a different one for a labelled lease is a 409. A label on an expired lease
   * is taken only while the task still has room for it.
   */
  submit(annotator: string, leaseId: string, choice: ShownChoice, timeSpentMs?: number): LabelResult {
    if (!this.durableLabels) return this.submitInTransaction(annotator, leaseId, choice, timeSpentMs);
    const db = this.store.db;
    const before = db.pragma('synchronous', { simple: true }) as number;
    db.pragma('synchronous = FULL');
    try {
      return this.submitInTransaction(annotator, leaseId, choice, timeSpentMs);
    } finally {
      db.pragma(`synchronous = ${before}`);
    }
  }

  private submitInTransaction(annotator: string, leaseId: string, choice: ShownChoice, timeSpentMs?: number): LabelResult {
    const db = this.store.db;
    return db.transaction((): LabelResult => {
      const now = this.now();
      const lease = this.ownLease(annotator, leaseId);
      const source = this.sources[lease.kind];
      const result = (stored: string, createdAt: number, spent: number, duplicate: boolean): LabelResult => ({
        lease: lease.id, kind: lease.kind, taskId: lease.target_id, choice, stored, createdAt, timeSpentMs: spent, duplicate,
      });
      if (lease.done_at !== null) {
        const label = source.labelOf(lease.target_id, annotator);
        if (lease.shown_choice === choice && label) return result(label.stored, label.createdAt, label.timeSpentMs, true);
        throw new ApiError(409, `Expected one label per lease but lease ${lease.id} already has ${JSON.stringify(lease.shown_choice)}`);
      }
      if (source.labelOf(lease.target_id, annotator) !== undefined) {
        throw new ApiError(409, `Expected a task you have not labelled for lease but received one you labelled under another lease`);
      }
      if (lease.expires_at <= now && !source.hasRoom(lease.target_id, annotator, now, lease.id)) {
        throw new ApiError(409, `Expected an open lease for lease but received one that expired, and its task went to others (ask for the next task)`);
      }
      // what the page measured, clamped to the time since the lease was issued
      const spent = Math.round(Math.min(timeSpentMs ?? Infinity, Math.max(0, now - lease.issued_at), MAX_TIME_SPENT_MS));
      const label = source.write(lease.target_id, annotator, choice, lease.swapped === 1, now, spent, lease.id);
      statement(db, 'UPDATE annotate_leases SET done_at = ?, shown_choice = ?, time_spent_ms = ? WHERE id = ?').run(now, choice, spent, lease.id);
      return result(label.stored, label.createdAt, label.timeSpentMs, false);
    }).immediate();
  }

  /** Gives a lease back before it expires (the page does on logout). */
  release(annotator: string, leaseId: string): void {
    const db = this.store.db;
    db.transaction(() => {
      const lease = this.ownLease(annotator, leaseId);
      if (lease.done_at === null) statement(db, 'UPDATE annotate_leases SET expires_at = min(expires_at, ?) WHERE id = ?').run(this.now(), lease.id);
    }).immediate();
  }

  /** The image shown on one side of the annotator's lease: its absolute path, and whether the store owns it (immutable). */
  imageOf(annotator: string, leaseId: string, side: 'left' | 'right'): { path: string; stored: boolean } {
    const lease = this.ownLease(annotator, leaseId);
    const image = statement(this.store.db, 'SELECT path, stored FROM images WHERE id = ?').get(side === 'left' ? lease.left_image_id : lease.right_image_id) as
      { path: string; stored: number };
    return { path: this.store.imagePath({ path: image.path, stored: image.stored === 1 }), stored: image.stored === 1 };
  }

  progress(annotator: string, request: LeaseRequest): Progress {
    return this.sources[request.kind].progress(annotator, request);
  }
}
