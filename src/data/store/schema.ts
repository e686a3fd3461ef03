// schema.ts: the feedback store's SQLite schema (version 1). Prompts and images are shared rows;
// a pair points at one prompt and one image per side. Stored images live under DIR/images/ab/<sha256>.png
// (path relative to DIR); references keep the path they were given.

export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS prompts (
  id    INTEGER PRIMARY KEY,
  text  TEXT NOT NULL UNIQUE,
  split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test'))
);

CREATE TABLE IF NOT EXISTS images (
  id     INTEGER PRIMARY KEY,
  path   TEXT NOT NULL UNIQUE,
  stored INTEGER NOT NULL CHECK (stored IN (0, 1)),
  sha256 TEXT,
  width  INTEGER,
  height INTEGER
);

CREATE TABLE IF NOT EXISTS pairs (
  id                  INTEGER PRIMARY KEY,
  dimension           TEXT NOT NULL,
  preferred_prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  preferred_image_id  INTEGER NOT NULL REFERENCES images(id),
  rejected_prompt_id  INTEGER NOT NULL REFERENCES prompts(id),
  rejected_image_id   INTEGER NOT NULL REFERENCES images(id),
  split               TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
  strategy            TEXT NOT NULL,
  annotator           TEXT NOT NULL,
  labelled            INTEGER NOT NULL CHECK (labelled IN (0, 1)),
  from_annotations    INTEGER NOT NULL DEFAULT 0 CHECK (from_annotations IN (0, 1)),
  tie                 INTEGER NOT NULL CHECK (tie IN (0, 1)),
  clean_label         TEXT CHECK (clean_label IN ('preferred', 'rejected', 'tie')),
  seed                INTEGER,
  key                 TEXT,
  created_at          INTEGER NOT NULL
);
-- Sampling for training: labelled pairs of one split by dimension (covering: the rowid rides along).
CREATE INDEX IF NOT EXISTS pairs_by_split_dimension ON pairs (labelled, split, dimension, tie);
-- Stats by dimension and strategy.
CREATE INDEX IF NOT EXISTS pairs_by_dimension_strategy ON pairs (dimension, strategy);
-- Idempotent inserts: a record's key is stored once.
CREATE UNIQUE INDEX IF NOT EXISTS pairs_by_key ON pairs (key) WHERE key IS NOT NULL;

CREATE TABLE IF NOT EXISTS annotations (
  id            INTEGER PRIMARY KEY,
  pair_id       INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  annotator     TEXT NOT NULL,
  choice        TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'skip')),
  created_at    INTEGER NOT NULL,
  time_spent_ms INTEGER NOT NULL,
  UNIQUE (pair_id, annotator)
);
CREATE INDEX IF NOT EXISTS annotations_by_annotator ON annotations (annotator, pair_id);
`;
