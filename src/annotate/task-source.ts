// task-source.ts: what the work queue needs from each kind of thing people label: queued preference
// pairs (pair-tasks.ts) and A/B comparison items (ab-tasks.ts).

/** What to label next: a queued pair (optionally of one dimension) or an item of one A/B set. */
export type LeaseRequest = { kind: 'pair'; dimension?: string } | { kind: 'ab'; set: string };

/** A choice as the annotator saw it: the side shown on the left or right of the screen. */
export const SHOWN_CHOICES = ['left', 'right', 'tie', 'skip'] as const;
export type ShownChoice = (typeof SHOWN_CHOICES)[number];

/** One side of a task in stored order (pair: left = preferred_* as stored; A/B: left = model A). */
export interface TaskSide {
  prompt: string;
  imageId: number;
}

export interface Task {
  id: number;
  setId: number | null;
  dimension: string | null;
  first: TaskSide;
  second: TaskSide;
}

export interface Progress {
  /** Labels this annotator gave (skips not counted). */
  labelled: number;
  skipped: number;
  /** Items this annotator could still be given (ignoring other people's open leases). */
  remaining: number;
}

/** The label as stored, and the same label from the stored point of view. */
export interface StoredLabel {
  /** pair: left / right / tie / skip in stored order; A/B: a / b / tie / skip. */
  stored: string;
  createdAt: number;
  timeSpentMs: number;
}

export interface TaskSource {
  readonly kind: LeaseRequest['kind'];
  /** The set id a request names (A/B), or null; throws an ApiError(404) for an unknown set. */
  setIdOf(request: LeaseRequest): number | null;
  /** The next task for this annotator, or undefined when none is left; `now` decides which leases are open. */
  next(annotator: string, request: LeaseRequest, now: number): number | undefined;
  task(id: number): Task | undefined;
  /** Whether one more label by `annotator` fits the task's quota, not counting the lease `exceptLease`. */
  hasRoom(id: number, annotator: string, now: number, exceptLease: string): boolean;
  labelOf(id: number, annotator: string): StoredLabel | undefined;
  /** Stores the label (shown choice mapped back through `swapped`) inside the caller's transaction. */
  write(id: number, annotator: string, shown: ShownChoice, swapped: boolean, now: number, timeSpentMs: number, leaseId: string): StoredLabel;
  progress(annotator: string, request: LeaseRequest): Progress;
}

/** The stored choice for a shown one: left/right swap when the stored second side was shown on the left. */
export function storedSide<T extends string>(shown: ShownChoice, swapped: boolean, first: T, second: T): T | 'tie' | 'skip' {
  if (shown === 'tie' || shown === 'skip') return shown;
  return (shown === 'left') !== swapped ? first : second;
}
