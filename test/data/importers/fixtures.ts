// fixtures.ts: small data files for the importer tests, written at test time: JSONL by hand, Parquet
// with hyparquet-writer (a devDependency), JPEG bytes with sharp.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import sharp from 'sharp';

export function writeJsonl(dir: string, name: string, rows: (object | string)[]): string {
  const file = join(dir, name);
  writeFileSync(file, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return file;
}

type ColumnType = 'STRING' | 'DOUBLE' | 'INT64' | 'BYTE_ARRAY' | 'BOOLEAN' | 'JSON';

/** Writes rows as Parquet; `types` names each column's type (lists of strings/numbers go as JSON). */
export function writeParquet(dir: string, name: string, rows: Record<string, unknown>[], types: Record<string, ColumnType>): string {
  const file = join(dir, name);
  parquetWriteFile({
    filename: file,
    columnData: Object.entries(types).map(([column, type]) => ({
      name: column,
      type,
      data: rows.map((r) => (type === 'INT64' && typeof r[column] === 'number' ? BigInt(r[column] as number) : r[column] ?? null)) as never,
    })),
  });
  return file;
}

/** A small JPEG of one color. */
export async function jpeg(r: number, g: number, b: number, size = 16): Promise<Uint8Array> {
  const buf = await sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
