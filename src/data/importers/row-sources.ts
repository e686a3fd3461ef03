// row-sources.ts: the rows of a data file, numbered for error reports: JSONL (by line), a JSON array
// (by item) or Parquet (by row, read with hyparquet in chunks so large files with embedded image
// bytes never sit in memory whole). Numbers are 1-based.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

export type RowUnit = 'line' | 'item' | 'row';

/** A row that was read, or one that could not be (bad JSON): `error` says why. */
export interface SourceRow {
  number: number;
  value?: Record<string, unknown>;
  error?: string;
}

export interface RowSource {
  kind: 'jsonl' | 'json' | 'parquet';
  unit: RowUnit;
  /** Rows in the file where it is known up front (Parquet, JSON arrays). */
  total?: number;
  rows: AsyncIterable<SourceRow>;
}

/** Rows read from Parquet per chunk. */
const PARQUET_CHUNK = 256;

/** Opens a data file by its content: Parquet magic, a JSON array, or JSON lines. */
export async function openRowSource(file: string): Promise<RowSource> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new Error(`Expected a readable data file for FILE but received ${JSON.stringify(file)} (no such file)`);
  }
  const head = Buffer.alloc(Math.min(size, 64));
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return parquetSource(file);
  if (head.toString('utf8').trimStart().startsWith('[')) return jsonArraySource(file);
  return jsonlSource(file);
}

function toRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function jsonlSource(file: string): RowSource {
  async function* rows(): AsyncGenerator<SourceRow> {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
      number++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        yield { number, error: `Expected a JSON object for the line but received invalid JSON (${(err as Error).message})` };
        continue;
      }
      const value = toRecord(parsed);
      yield value ? { number, value } : { number, error: `Expected a JSON object for the line but received ${describe(parsed)}` };
    }
  }
  return { kind: 'jsonl', unit: 'line', rows: rows() };
}

async function jsonArraySource(file: string): Promise<RowSource> {
  let items: unknown;
  try {
    items = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`Expected a JSON array for FILE but received invalid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(items)) throw new Error(`Expected a JSON array for FILE but received ${describe(items)}`);
  const list = items;
  async function* rows(): AsyncGenerator<SourceRow> {
    for (let i = 0; i < list.length; i++) {
      const value = toRecord(list[i]);
      yield value ? { number: i + 1, value } : { number: i + 1, error: `Expected a JSON object for the item but received ${describe(list[i])}` };
    }
  }
  return { kind: 'json', unit: 'item', total: list.length, rows: rows() };
}

/** Parquet INT64 arrives as bigint; the importers want plain numbers. */
function plainValues(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') row[k] = Number(v);
    else if (Array.isArray(v)) row[k] = v.map((x) => (typeof x === 'bigint' ? Number(x) : x));
  }
  return row;
}

async function parquetSource(file: string): Promise<RowSource> {
  const buffer = await asyncBufferFromFile(file);
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    throw new Error(`Expected a Parquet file for FILE but received one hyparquet cannot read (${(err as Error).message})`);
  }
  const total = Number(metadata.num_rows);
  async function* rows(): AsyncGenerator<SourceRow> {
    for (let start = 0; start < total; start += PARQUET_CHUNK) {
      const end = Math.min(total, start + PARQUET_CHUNK);
      // utf8: false keeps plain BYTE_ARRAY columns (image bytes) as bytes; UTF8 strings still decode.
      const chunk = await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: end, utf8: false });
      for (let i = 0; i < chunk.length; i++) yield { number: start + i + 1, value: plainValues(chunk[i] as Record<string, unknown>) };
    }
  }
  return { kind: 'parquet', unit: 'row', total, rows: rows() };
}
