// schema.ts: the annotation app's tables, kept in the feedback store's SQLite file beside the store's
// own (created on first use; the store's schema version is untouched). Labels of queued pairs go in the
// store's `annotations` table; these tables hold who may label (hashed tokens), the leases that hand
// one pair to one annotator at a time with the left/right order it was shown in, and A/B comparison sets.
import type Database from 'better-sqlite3';

export const ANNOTATE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS annotate_users (
  name         TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  admin        INTEGER NOT NULL CHECK (admin IN (0, 1)),
  created_at   INTEGER NOT NULL
);

-- A lease hands one item (a queued pair, or an A/B item) to one annotator until expires_at. Its id is the
-- client's handle and the idempotency key of the label sent with it. swapped = 1: the stored right side
-- (pair: rejected_*, A/B: model B) was shown on the left; the image ids say what was shown, as shown.
CREATE TABLE IF NOT EXISTS annotate_leases (
  id             TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('pair', 'ab')),
  target_id      INTEGER NOT NULL,
  set_id         INTEGER,
  -- the dimension the annotator asked for (pairs), NULL for any
  dimension      TEXT,
  annotator      TEXT NOT NULL,
  swapped        INTEGER NOT NULL CHECK (swapped IN (0, 1)),
  left_image_id  INTEGER NOT NULL,
  right_image_id INTEGER NOT NULL,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  done_at        INTEGER,
  -- what was clicked, in screen terms
  shown_choice   TEXT CHECK (shown_choice IN ('left', 'right', 'tie', 'skip')),
  time_spent_ms  INTEGER
);
CREATE INDEX IF NOT EXISTS annotate_leases_open ON annotate_leases (kind, target_id) WHERE done_at IS NULL;
CREATE INDEX IF NOT EXISTS annotate_leases_open_by_annotator ON annotate_leases (annotator, kind) WHERE done_at IS NULL;

CREATE TABLE IF NOT EXISTS ab_sets (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  model_a         TEXT NOT NULL,
  model_b         TEXT NOT NULL,
  -- labels wanted per item from different annotators; NULL: every annotator labels every item once
  labels_per_item INTEGER,
  created_at      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS ab_items (
  id         INTEGER PRIMARY KEY,
  set_id     INTEGER NOT NULL REFERENCES ab_sets(id) ON DELETE CASCADE,
  key        TEXT NOT NULL,
  prompt     TEXT NOT NULL,
  dimension  TEXT,
  a_image_id INTEGER NOT NULL REFERENCES images(id),
  b_image_id INTEGER NOT NULL REFERENCES images(id),
  UNIQUE (set_id, key)
);

-- outcome is from model A's side: 'a' = A preferred (a win for A), 'b' = a loss, 'tie', or 'skip'.
CREATE TABLE IF NOT EXISTS ab_labels (
  id            INTEGER PRIMARY KEY,
  item_id       INTEGER NOT NULL REFERENCES ab_items(id) ON DELETE CASCADE,
  annotator     TEXT NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('a', 'b', 'tie', 'skip')),
  a_shown_left  INTEGER NOT NULL CHECK (a_shown_left IN (0, 1)),
  created_at    INTEGER NOT NULL,
  time_spent_ms INTEGER NOT NULL,
  lease_id      TEXT,
  UNIQUE (item_id, annotator)
);
`;

/** Creates the annotation tables if they are missing (idempotent). */
export function ensureAnnotateSchema(db: Database.Database): void {
  db.exec(ANNOTATE_SCHEMA_SQL);
}
