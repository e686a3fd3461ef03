// import-runner.ts: runs one importer over one data file into the store. Rows are mapped, batched and
// inserted one transaction per batch; every pair carries a key made from its content, so a rerun
// (after a crash or a fix) adds only what is missing. Bad rows are reported by line or row number
// and either skipped or fatal; a fatal one stops the import after storing the good rows before it,
// and nothing stored earlier is touched.
import { dirname, resolve } from 'node:path';
import type { FeedbackStore } from '../store/feedback-store.js';
import type { UnlabelledPairInput } from '../types.js';
import { RowError } from './fields.js';
import type { MappedPair, PairImporter } from './importer.js';
import { openRowSource, type RowUnit } from './row-sources.js';

export type OnError = 'skip' | 'fail';

export interface ImportOptions {
  /** The dimension the pairs go to. Defaults to "overall". */
  dimension?: string;
  /** Skip bad rows (reported and counted) or stop at the first. Defaults to 'skip'. */
  onError?: OnError;
  /** Pairs per insert transaction. Defaults to 256. */
  batchSize?: number;
  /** Directory that relative image paths are resolved against. Defaults to the data file's directory. */
  imageRoot?: string;
  /** How many bad rows to keep in the report (all are counted). Defaults to 1000. */
  keepErrors?: number;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  rowsRead: number;
  /** Rows in the file, where known up front (Parquet, JSON arrays). */
  total?: number;
  inserted: number;
  duplicates: number;
  badRows: number;
}

export interface BadRow {
  /** 1-based line (JSONL), item (JSON array) or row (Parquet) number. */
  number: number;
  reason: string;
}

export interface ImportReport extends ImportProgress {
  format: string;
  file: string;
  unit: RowUnit;
  dimension: string;
  /** Rows that hold no preference (e.g. Pick-a-Pic rows without a label): not errors. */
  emptyRows: number;
  errors: BadRow[];
  seconds: number;
}

/** Thrown with --on-error fail; `report` says what was stored before the bad row. */
export class ImportFailedError extends Error {
  readonly code = 'IMPORT_BAD_ROW';
  constructor(message: string, readonly report: ImportReport) {
    super(message);
  }
}

interface Pending {
  number: number;
  item: MappedPair;
}

export async function importFile(store: FeedbackStore, importer: PairImporter, file: string, options: ImportOptions = {}): Promise<ImportReport> {
  const dimension = options.dimension ?? 'overall';
  if (typeof dimension !== 'string' || dimension.trim() === '') throw new Error(`Expected a non-empty name for dimension but received ${JSON.stringify(dimension)}`);
  const onError = options.onError ?? 'skip';
  if (onError !== 'skip' && onError !== 'fail') throw new Error(`Expected skip or fail for onError but received ${JSON.stringify(onError)}`);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`Expected a positive integer for batchSize but received ${batchSize}`);
  const keepErrors = options.keepErrors ?? 1000;
  const started = Date.now();
  const source = await openRowSource(file);
  const context = { dimension, imageRoot: options.imageRoot ?? dirname(resolve(file)) };
  const report: ImportReport = {
    format: importer.format, file, unit: source.unit, dimension, total: source.total,
    rowsRead: 0, inserted: 0, duplicates: 0, badRows: 0, emptyRows: 0, errors: [], seconds: 0,
  };
  const fail = (number: number, reason: string): ImportFailedError => {
    report.seconds = (Date.now() - started) / 1000;
    return new ImportFailedError(`${source.unit} ${number}: ${reason} (import stopped; ${report.inserted} pairs from earlier ${source.unit}s are stored, and a rerun adds only what is missing)`, report);
  };
  /** Counts a bad row; with onError 'fail' returns the error to throw. */
  const bad = (number: number, reason: string): ImportFailedError | undefined => {
    report.badRows++;
    if (report.errors.length < keepErrors) report.errors.push({ number, reason });
    return onError === 'fail' ? fail(number, reason) : undefined;
  };

  let batch: Pending[] = [];
  let batchPairs = 0;
  const flush = async (): Promise<void> => {
    const items = batch;
    batch = [];
    batchPairs = 0;
    if (items.length === 0) return;
    try {
      await insertItems(store, items.map((p) => p.item), report);
    } catch {
      // Something in the batch cannot be stored (an undecodable image): find which, one by one.
      for (const p of items) {
        try {
          await insertItems(store, [p.item], report);
        } catch (err) {
          const reason = (err as Error).message.replace(/records\[\d+\]\./g, '');
          const stop = bad(p.number, reason);
          if (stop) throw stop;
        }
      }
    }
    options.onProgress?.({ ...progressOf(report) });
  };

  for await (const row of source.rows) {
    report.rowsRead++;
    if (row.error !== undefined) {
      const stop = bad(row.number, row.error);
      if (stop) {
        await flush();
        throw stop;
      }
      continue;
    }
    let mapped: MappedPair[];
    try {
      mapped = importer.mapRow(row.value!, context);
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      const stop = bad(row.number, err.message);
      if (stop) {
        await flush();
        throw stop;
      }
      continue;
    }
    if (mapped.length === 0) report.emptyRows++;
    for (const item of mapped) batch.push({ number: row.number, item });
    batchPairs += mapped.length;
    if (batchPairs >= batchSize) await flush();
  }
  await flush();
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

function progressOf(r: ImportReport): ImportProgress {
  return { rowsRead: r.rowsRead, total: r.total, inserted: r.inserted, duplicates: r.duplicates, badRows: r.badRows };
}

/** Labelled pairs in one transaction, queued ones in another, then their annotations (upserts: rerun-safe). */
async function insertItems(store: FeedbackStore, items: MappedPair[], report: ImportReport): Promise<void> {
  const labelled = items.filter((i) => !i.queued);
  const queued = items.filter((i) => i.queued);
  const a = await store.insertPairs(labelled.map((i) => i.pair));
  report.inserted += a.inserted;
  report.duplicates += a.duplicates;
  const b = await store.enqueuePairs(queued.map((i): UnlabelledPairInput => ({
    dimension: i.pair.dimension, left: i.pair.preferred, right: i.pair.rejected, strategy: i.pair.strategy,
    seed: i.pair.seed, key: i.pair.key, createdAt: i.pair.createdAt,
  })));
  report.inserted += b.inserted;
  report.duplicates += b.duplicates;
  for (const item of items) {
    if (!item.annotations?.length) continue;
    const pairId = store.pairIdByKey(item.pair.key);
    if (pairId === undefined) continue;
    for (const ann of item.annotations) store.annotate({ pairId, ...ann });
  }
}
