// feedback-store.ts: the feedback store: prompts, images, labelled and queued pairs and annotations
// in one SQLite file (DIR/feedback.sqlite, WAL mode), images content-addressed under DIR/images/.
// Every insert call is one transaction: it lands whole or not at all.
import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Annotation,
  AnnotationInput,
  CleanLabel,
  DimensionName,
  ImageReference,
  ImageSource,
  PairInput,
  PairInputSide,
  Split,
  StoredImage,
  StoredPair,
  UnlabelledPairInput,
} from '../types.js';
import { CHOICES, CLEAN_LABELS } from '../types.js';
import { encodePng, isImageReference, writeStoredImage } from './image-files.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { checkSplitFractions, DEFAULT_SPLIT_FRACTIONS, splitOfPrompt, type SplitFractions } from './split.js';
import { PairSampler, type SamplerOptions } from './sampler.js';

export const DATABASE_FILE = 'feedback.sqlite';

export interface OpenOptions {
  /** Fractions of prompts per split, fixed when the store is created. Defaults to 0.8 / 0.1 / 0.1. */
  splitFractions?: SplitFractions;
  /** Open an existing store read-only. Defaults to false. */
  readonly?: boolean;
}

export interface InsertResult {
  /** Pairs written by this call. */
  inserted: number;
  /** Records skipped because a pair with the same key is already stored. */
  duplicates: number;
  /** Per record, in order: the new pair id, or null for a duplicate. */
  ids: (number | null)[];
}

/** An image resolved before the transaction: where it lives and what is known about it. */
interface ResolvedImage {
  path: string;
  stored: boolean;
  sha256: string | null;
  width: number | null;
  height: number | null;
}

interface ResolvedSide {
  prompt: string;
  image: ResolvedImage;
}

interface PairRow {
  dimension: string;
  first: ResolvedSide;
  second: ResolvedSide;
  strategy: string;
  annotator: string;
  labelled: boolean;
  fromAnnotations: boolean;
  tie: boolean;
  cleanLabel: CleanLabel | null;
  seed: number | null;
  key: string | null;
  createdAt: number;
}

const PAIR_SELECT = `
SELECT p.id, p.dimension, p.split, p.strategy, p.annotator, p.labelled, p.from_annotations, p.tie, p.clean_label, p.seed, p.key, p.created_at,
       pp.id AS pp_id, pp.text AS pp_text, rp.id AS rp_id, rp.text AS rp_text,
       pi.id AS pi_id, pi.path AS pi_path, pi.stored AS pi_stored, pi.sha256 AS pi_sha256, pi.width AS pi_width, pi.height AS pi_height,
       ri.id AS ri_id, ri.path AS ri_path, ri.stored AS ri_stored, ri.sha256 AS ri_sha256, ri.width AS ri_width, ri.height AS ri_height
FROM pairs p
JOIN prompts pp ON pp.id = p.preferred_prompt_id
JOIN prompts rp ON rp.id = p.rejected_prompt_id
JOIN images pi ON pi.id = p.preferred_image_id
JOIN images ri ON ri.id = p.rejected_image_id`;

type PairSelectRow = Record<string, unknown>;

export class FeedbackStore {
  readonly dir: string;
  readonly db: Database.Database;
  readonly splitFractions: SplitFractions;

  private constructor(dir: string, db: Database.Database, splitFractions: SplitFractions) {
    this.dir = dir;
    this.db = db;
    this.splitFractions = splitFractions;
  }

  /** Opens the store in `dir`, creating the directory and schema if needed. */
  static open(dir: string, options: OpenOptions = {}): FeedbackStore {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new Error(`Expected a directory path for dir but received ${JSON.stringify(dir)}`);
    }
    if (!options.readonly) mkdirSync(dir, { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(join(dir, DATABASE_FILE), { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (err) {
      throw new Error(`Expected a feedback store for dir but received ${JSON.stringify(dir)} (${(err as Error).message})`);
    }
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -131072'); // 128 MiB of page cache
    db.pragma('temp_store = MEMORY');
    // Reads through a memory map instead of read() calls: random sampling over millions of rows is
    // about 1.5x faster (address space only; the OS pages in what is touched).
    db.pragma('mmap_size = 4294967296');
    if (!options.readonly) db.exec(SCHEMA_SQL);
    const splitFractions = FeedbackStore.readOrWriteMeta(db, options);
    return new FeedbackStore(dir, db, splitFractions);
  }

  private static readOrWriteMeta(db: Database.Database, options: OpenOptions): SplitFractions {
    const get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const version = get.get('schema_version') as string | undefined;
    if (version === undefined) {
      if (options.readonly) throw new Error('Expected a feedback store for dir but received a database without a schema');
      const fractions = options.splitFractions ?? DEFAULT_SPLIT_FRACTIONS;
      checkSplitFractions(fractions);
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('schema_version', String(SCHEMA_VERSION));
        put.run('split_fractions', JSON.stringify(fractions));
      })();
      return fractions;
    }
    if (Number(version) !== SCHEMA_VERSION) {
      throw new Error(`Expected schema version ${SCHEMA_VERSION} for the feedback store but received ${version}`);
    }
    const fractions = JSON.parse(get.get('split_fractions') as string) as SplitFractions;
    if (options.splitFractions && JSON.stringify(options.splitFractions) !== JSON.stringify(fractions)) {
      throw new Error(`Expected the store's split fractions ${JSON.stringify(fractions)} for splitFractions but received ${JSON.stringify(options.splitFractions)} (splits are fixed when a store is created)`);
    }
    return fractions;
  }

  /**
   * Inserts labelled pairs (what strategies and importers emit) in one transaction. Pixels and image
   * bytes are written content-addressed first (an image file without a row is harmless); records whose
   * key is already stored are skipped.
   */
  async insertPairs(records: readonly PairInput[]): Promise<InsertResult> {
    const rows = await this.resolveRows(records.map((r, i) => {
      checkPairInput(r, `records[${i}]`);
      return {
        dimension: r.dimension, first: r.preferred, second: r.rejected, strategy: r.strategy, annotator: r.annotator,
        labelled: true, fromAnnotations: r.fromAnnotations ?? false, tie: r.tie, cleanLabel: r.cleanLabel ?? null, seed: r.seed ?? null, key: r.key ?? null,
        createdAt: r.createdAt ?? Date.now(),
      };
    }));
    return this.writeRows(rows);
  }

  /** Queues pairs for annotation: no preference yet; annotations call `left` "left". */
  async enqueuePairs(records: readonly UnlabelledPairInput[]): Promise<InsertResult> {
    const rows = await this.resolveRows(records.map((r, i) => {
      checkName(r.dimension, `records[${i}].dimension`);
      checkName(r.strategy, `records[${i}].strategy`);
      return {
        dimension: r.dimension, first: r.left, second: r.right, strategy: r.strategy, annotator: '',
        labelled: false, fromAnnotations: false, tie: false, cleanLabel: null, seed: r.seed ?? null, key: r.key ?? null,
        createdAt: r.createdAt ?? Date.now(),
      };
    }));
    return this.writeRows(rows);
  }

  /** The id of the pair stored under this key, if any. */
  pairIdByKey(key: string): number | undefined {
    return this.db.prepare('SELECT id FROM pairs WHERE key = ?').pluck().get(key) as number | undefined;
  }

  /** Encodes and writes images (async, outside the transaction); skips records whose key is stored. */
  private async resolveRows(rows: (Omit<PairRow, 'first' | 'second'> & { first: PairInputSide; second: PairInputSide })[]): Promise<(PairRow | null)[]> {
    const keyExists = this.db.prepare('SELECT 1 FROM pairs WHERE key = ?').pluck();
    const pending = new Map<ImageSource, Promise<ResolvedImage>>();
    const resolveImage = (image: ImageSource, name: string): Promise<ResolvedImage> => {
      let p = pending.get(image);
      if (!p) {
        p = this.resolveImage(image, name);
        pending.set(image, p);
      }
      return p;
    };
    const out: (PairRow | null)[] = new Array(rows.length);
    const waits: Promise<void>[] = [];
    rows.forEach((row, i) => {
      if (row.key !== null && keyExists.get(row.key) !== undefined) {
        out[i] = null;
        return;
      }
      const a = row.first.image;
      const b = row.second.image;
      if (isReferenceSource(a) && isReferenceSource(b)) {
        // references need no I/O: resolved here, so a million-row import does not make a million promises
        out[i] = { ...row, first: { prompt: row.first.prompt, image: referenceOf(a, `records[${i}]`) }, second: { prompt: row.second.prompt, image: referenceOf(b, `records[${i}]`) } };
        return;
      }
      waits.push((async () => {
        const [ra, rb] = await Promise.all([
          resolveImage(a, `records[${i}].${row.labelled ? 'preferred' : 'left'}.image`),
          resolveImage(b, `records[${i}].${row.labelled ? 'rejected' : 'right'}.image`),
        ]);
        out[i] = { ...row, first: { prompt: row.first.prompt, image: ra }, second: { prompt: row.second.prompt, image: rb } };
      })());
    });
    await Promise.all(waits);
    return out;
  }

  private async resolveImage(image: ImageSource, name: string): Promise<ResolvedImage> {
    if (image === null || typeof image !== 'object') {
      throw new Error(`Expected an RgbImage, {path} or {bytes} for ${name} but received ${image === null ? 'null' : typeof image}`);
    }
    if (isImageReference(image)) return referenceOf(image, name);
    const encoded = await encodePng(image, name);
    const path = await writeStoredImage(this.dir, encoded);
    return { path, stored: true, sha256: encoded.sha256, width: encoded.width, height: encoded.height };
  }

  /** One transaction: prompt and image rows found or made, then the pairs. */
  private writeRows(rows: readonly (PairRow | null)[]): InsertResult {
    const db = this.db;
    const findPrompt = db.prepare('SELECT id, split FROM prompts WHERE text = ?');
    const addPrompt = db.prepare('INSERT INTO prompts (text, split) VALUES (?, ?)');
    const findImage = db.prepare('SELECT id FROM images WHERE path = ?').pluck();
    const addImage = db.prepare('INSERT INTO images (path, stored, sha256, width, height) VALUES (?, ?, ?, ?, ?)');
    const addPair = db.prepare(`INSERT INTO pairs (dimension, preferred_prompt_id, preferred_image_id, rejected_prompt_id, rejected_image_id,
        split, strategy, annotator, labelled, from_annotations, tie, clean_label, seed, key, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING`);
    const prompts = new Map<string, { id: number; split: Split }>();
    const images = new Map<string, number>();
    const promptOf = (text: string): { id: number; split: Split } => {
      let p = prompts.get(text);
      if (!p) {
        p = findPrompt.get(text) as { id: number; split: Split } | undefined;
        if (!p) {
          const split = splitOfPrompt(text, this.splitFractions);
          p = { id: Number(addPrompt.run(text, split).lastInsertRowid), split };
        }
        prompts.set(text, p);
      }
      return p;
    };
    const imageOf = (img: ResolvedImage): number => {
      let id = images.get(img.path);
      if (id === undefined) {
        id = findImage.get(img.path) as number | undefined;
        if (id === undefined) id = Number(addImage.run(img.path, img.stored ? 1 : 0, img.sha256, img.width, img.height).lastInsertRowid);
        images.set(img.path, id);
      }
      return id;
    };
    const result: InsertResult = { inserted: 0, duplicates: 0, ids: [] };
    db.transaction(() => {
      for (const row of rows) {
        if (row === null) {
          result.duplicates++;
          result.ids.push(null);
          continue;
        }
        const pp = promptOf(row.first.prompt);
        const rp = promptOf(row.second.prompt);
        const info = addPair.run(row.dimension, pp.id, imageOf(row.first.image), rp.id, imageOf(row.second.image),
          pp.split, row.strategy, row.annotator, row.labelled ? 1 : 0, row.fromAnnotations ? 1 : 0, row.tie ? 1 : 0, row.cleanLabel, row.seed, row.key, row.createdAt);
        if (info.changes === 0) {
          result.duplicates++; // the same key twice in one call
          result.ids.push(null);
        } else {
          result.inserted++;
          result.ids.push(Number(info.lastInsertRowid));
        }
      }
    })();
    return result;
  }

  getPair(id: number): StoredPair | undefined {
    const row = this.db.prepare(`${PAIR_SELECT} WHERE p.id = ?`).get(id) as PairSelectRow | undefined;
    return row && toStoredPair(row);
  }

  /** Pairs by id order, optionally of one dimension: for export and display. */
  *iteratePairs(options: { dimension?: DimensionName; labelled?: boolean } = {}): Generator<StoredPair> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (options.dimension !== undefined) { where.push('p.dimension = ?'); args.push(options.dimension); }
    if (options.labelled !== undefined) { where.push('p.labelled = ?'); args.push(options.labelled ? 1 : 0); }
    const sql = `${PAIR_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY p.id`;
    for (const row of this.db.prepare(sql).iterate(...args)) yield toStoredPair(row as PairSelectRow);
  }

  countPairs(options: { dimension?: DimensionName; labelled?: boolean; split?: Split; strategy?: string } = {}): number {
    const where: string[] = [];
    const args: unknown[] = [];
    if (options.dimension !== undefined) { where.push('dimension = ?'); args.push(options.dimension); }
    if (options.strategy !== undefined) { where.push('strategy = ?'); args.push(options.strategy); }
    if (options.labelled !== undefined) { where.push('labelled = ?'); args.push(options.labelled ? 1 : 0); }
    if (options.split !== undefined) { where.push('split = ?'); args.push(options.split); }
    const sql = `SELECT count(*) FROM pairs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return this.db.prepare(sql).pluck().get(...args) as number;
  }

  /** The dimensions that have pairs, sorted. */
  dimensions(): DimensionName[] {
    return this.db.prepare('SELECT DISTINCT dimension FROM pairs ORDER BY dimension').pluck().all() as string[];
  }

  /** The absolute path of an image row's file (stored images live under the store directory). */
  imagePath(image: Pick<StoredImage, 'path' | 'stored'>): string {
    return image.stored || !isAbsolute(image.path) ? join(this.dir, image.path) : image.path;
  }

  // ---- annotation queue (for the annotation app) ----

  /**
   * Unlabelled pairs the annotator has not seen yet, those with the fewest annotations first.
   */
  nextUnlabelled(options: { annotator: string; dimension?: DimensionName; limit?: number }): StoredPair[] {
    checkName(options.annotator, 'annotator');
    const limit = options.limit ?? 1;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`Expected a positive integer for limit but received ${limit}`);
    const dim = options.dimension !== undefined ? 'AND p.dimension = @dimension' : '';
    const ids = this.db.prepare(`SELECT p.id FROM pairs p
      WHERE p.labelled = 0 ${dim}
        AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.pair_id = p.id AND a.annotator = @annotator)
      ORDER BY (SELECT count(*) FROM annotations a WHERE a.pair_id = p.id AND a.choice != 'skip'), p.id
      LIMIT @limit`).pluck().all({ annotator: options.annotator, dimension: options.dimension, limit }) as number[];
    return ids.map((id) => this.getPair(id)!);
  }

  /** Records (or replaces) one annotator's choice on one pair. */
  annotate(input: AnnotationInput): Annotation {
    if (!Number.isInteger(input.pairId)) throw new Error(`Expected an integer for pairId but received ${input.pairId}`);
    checkName(input.annotator, 'annotator');
    if (!(CHOICES as readonly string[]).includes(input.choice)) {
      throw new Error(`Expected one of ${CHOICES.join(', ')} for choice but received ${JSON.stringify(input.choice)}`);
    }
    const timeSpentMs = input.timeSpentMs ?? 0;
    if (!Number.isFinite(timeSpentMs) || timeSpentMs < 0) throw new Error(`Expected a non-negative number for timeSpentMs but received ${timeSpentMs}`);
    if (this.db.prepare('SELECT 1 FROM pairs WHERE id = ?').get(input.pairId) === undefined) {
      throw new Error(`Expected the id of a stored pair for pairId but received ${input.pairId}`);
    }
    const createdAt = input.createdAt ?? Date.now();
    const row = this.db.prepare(`INSERT INTO annotations (pair_id, annotator, choice, created_at, time_spent_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (pair_id, annotator) DO UPDATE SET choice = excluded.choice, created_at = excluded.created_at, time_spent_ms = excluded.time_spent_ms
      RETURNING id`).get(input.pairId, input.annotator, input.choice, createdAt, Math.round(timeSpentMs)) as { id: number };
    return { id: row.id, pairId: input.pairId, annotator: input.annotator, choice: input.choice, createdAt, timeSpentMs: Math.round(timeSpentMs) };
  }

  annotationsOf(pairId: number): Annotation[] {
    return this.db.prepare(`SELECT id, pair_id AS pairId, annotator, choice, created_at AS createdAt, time_spent_ms AS timeSpentMs
      FROM annotations WHERE pair_id = ? ORDER BY id`).all(pairId) as Annotation[];
  }

  /**
   * Labels queued pairs that have at least `minVotes` non-skip annotations, by majority (left and
   * right equal: a tie). A pair whose right side wins has its sides swapped, and its annotations
   * flipped with it, so `left` always names the preferred_* side. One transaction.
   */
  resolveAnnotations(options: { minVotes?: number } = {}): { resolved: number; ties: number } {
    const minVotes = options.minVotes ?? 1;
    if (!Number.isInteger(minVotes) || minVotes < 1) throw new Error(`Expected a positive integer for minVotes but received ${minVotes}`);
    const db = this.db;
    const candidates = db.prepare(`SELECT p.id,
        sum(a.choice = 'left') AS l, sum(a.choice = 'right') AS r, sum(a.choice = 'tie') AS t,
        group_concat(a.annotator, '+') AS who
      FROM pairs p JOIN (SELECT * FROM annotations WHERE choice != 'skip' ORDER BY annotator) a ON a.pair_id = p.id
      WHERE p.labelled = 0 GROUP BY p.id HAVING count(*) >= ?`);
    const label = db.prepare(`UPDATE pairs SET labelled = 1, from_annotations = 1, tie = ?, annotator = ? WHERE id = ?`);
    const swap = db.prepare(`UPDATE pairs SET
        preferred_prompt_id = rejected_prompt_id, rejected_prompt_id = preferred_prompt_id,
        preferred_image_id = rejected_image_id, rejected_image_id = preferred_image_id,
        split = (SELECT split FROM prompts WHERE id = pairs.rejected_prompt_id)
      WHERE id = ?`);
    const flip = db.prepare(`UPDATE annotations SET choice = CASE choice WHEN 'left' THEN 'right' WHEN 'right' THEN 'left' ELSE choice END WHERE pair_id = ?`);
    let resolved = 0;
    let ties = 0;
    db.transaction(() => {
      for (const c of candidates.all(minVotes) as { id: number; l: number; r: number; t: number; who: string }[]) {
        const top = Math.max(c.l, c.r, c.t);
        const tie = c.t === top || c.l === c.r;
        if (!tie && c.r > c.l) {
          swap.run(c.id);
          flip.run(c.id);
        }
        label.run(tie ? 1 : 0, c.who, c.id);
        resolved++;
        if (tie) ties++;
      }
    })();
    return { resolved, ties };
  }

  /** A seeded sampler of labelled pairs for training (see sampler.ts). */
  sampler(options: SamplerOptions): PairSampler {
    return new PairSampler(this, options);
  }

  /**
   * Stores one image outside any pair (pixels and bytes content-addressed, references kept) and returns
   * its row; the same image again returns the same row. For tables beside the store's (A/B sets).
   */
  async addImage(image: ImageSource, name = 'image'): Promise<StoredImage> {
    const resolved = await this.resolveImage(image, name);
    this.db.prepare('INSERT INTO images (path, stored, sha256, width, height) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING')
      .run(resolved.path, resolved.stored ? 1 : 0, resolved.sha256, resolved.width, resolved.height);
    return this.imageById(this.db.prepare('SELECT id FROM images WHERE path = ?').pluck().get(resolved.path) as number)!;
  }

  imageById(id: number): StoredImage | undefined {
    const r = this.db.prepare('SELECT id, path, stored, sha256, width, height FROM images WHERE id = ?').get(id) as
      { id: number; path: string; stored: number; sha256: string | null; width: number | null; height: number | null } | undefined;
    return r && { ...r, stored: r.stored === 1 };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function isReferenceSource(image: ImageSource): image is ImageReference {
  return image !== null && typeof image === 'object' && isImageReference(image);
}

function referenceOf(image: ImageReference, name: string): ResolvedImage {
  if (image.path.length === 0) throw new Error(`Expected a non-empty path for ${name}.image.path but received ""`);
  return { path: image.path, stored: false, sha256: image.sha256 ?? null, width: image.width ?? null, height: image.height ?? null };
}

function toStoredPair(r: PairSelectRow): StoredPair {
  const image = (prefix: 'pi' | 'ri'): StoredImage => ({
    id: r[`${prefix}_id`] as number,
    path: r[`${prefix}_path`] as string,
    stored: r[`${prefix}_stored`] === 1,
    sha256: r[`${prefix}_sha256`] as string | null,
    width: r[`${prefix}_width`] as number | null,
    height: r[`${prefix}_height`] as number | null,
  });
  return {
    id: r.id as number,
    dimension: r.dimension as string,
    preferred: { promptId: r.pp_id as number, prompt: r.pp_text as string, image: image('pi') },
    rejected: { promptId: r.rp_id as number, prompt: r.rp_text as string, image: image('ri') },
    split: r.split as Split,
    strategy: r.strategy as string,
    annotator: r.annotator as string,
    labelled: r.labelled === 1,
    fromAnnotations: r.from_annotations === 1,
    tie: r.tie === 1,
    cleanLabel: r.clean_label as CleanLabel | null,
    seed: r.seed as number | null,
    key: r.key as string | null,
    createdAt: r.created_at as number,
  };
}

function checkName(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`Expected a non-empty string for ${name} but received ${JSON.stringify(value)}`);
  }
}

function checkSide(side: PairInputSide | undefined, name: string): void {
  if (!side || typeof side !== 'object') throw new Error(`Expected {prompt, image} for ${name} but received ${JSON.stringify(side)}`);
  if (typeof side.prompt !== 'string') throw new Error(`Expected a string for ${name}.prompt but received ${JSON.stringify(side.prompt)}`);
}

export function checkPairInput(r: PairInput, name: string): void {
  checkName(r.dimension, `${name}.dimension`);
  checkName(r.strategy, `${name}.strategy`);
  if (typeof r.annotator !== 'string') throw new Error(`Expected a string for ${name}.annotator but received ${JSON.stringify(r.annotator)}`);
  if (typeof r.tie !== 'boolean') throw new Error(`Expected a boolean for ${name}.tie but received ${JSON.stringify(r.tie)}`);
  if (r.cleanLabel !== undefined && !(CLEAN_LABELS as readonly string[]).includes(r.cleanLabel)) {
    throw new Error(`Expected one of ${CLEAN_LABELS.join(', ')} for ${name}.cleanLabel but received ${JSON.stringify(r.cleanLabel)}`);
  }
  if (r.seed !== undefined && !Number.isSafeInteger(r.seed)) throw new Error(`Expected an integer for ${name}.seed but received ${r.seed}`);
  checkSide(r.preferred, `${name}.preferred`);
  checkSide(r.rejected, `${name}.rejected`);
}
