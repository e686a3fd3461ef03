// zip-archive.ts: random access to the entries of a zip file through yauzl (zip64 included, so
// multi-gigabyte checkpoints work): the central directory is read once, then each entry's byte
// range is streamed from disk when asked. PyTorch stores its entries uncompressed, so a range of a
// storage is read without touching the rest; a deflated entry (a re-zipped file) is inflated whole.
import yauzl from 'yauzl';

import { TreeRewardError } from '../../native/errors.js';

export class ZipArchive {
  readonly #zip: yauzl.ZipFile;
  readonly #entries: Map<string, yauzl.Entry>;

  private constructor(readonly path: string, zip: yauzl.ZipFile, entries: Map<string, yauzl.Entry>) {
    this.#zip = zip;
    this.#entries = entries;
  }

  static async open(path: string): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
      throw new TreeRewardError('CORRUPT_FILE', `Expected a valid zip archive at ${path} but ${(e as Error).message}`, { cause: e });
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
    } catch (e) {
      zip.close();
      throw new TreeRewardError('CORRUPT_FILE', `Expected a valid zip archive at ${path} but ${(e as Error).message}`, { cause: e });
    }
    return new ZipArchive(path, zip, entries);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The entry's uncompressed size in bytes. */
  size(name: string): number {
    return this.#entry(name).uncompressedSize;
  }

  #entry(name: string): yauzl.Entry {
    const e = this.#entries.get(name);
    if (!e) throw new TreeRewardError('CORRUPT_FILE', `Expected an entry ${name} in the zip archive ${this.path} but it has none`);
    return e;
  }

  /** Bytes [start, end) of an entry, in a fresh buffer. */
  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    const e = this.#entry(name);
    const stop = end ?? e.uncompressedSize;
    if (start < 0 || stop < start || stop > e.uncompressedSize) {
      throw new TreeRewardError('CORRUPT_FILE', `Expected bytes ${start} to ${stop} of ${name} in ${this.path} but the entry has ${e.uncompressedSize}`);
    }
    const out = new Uint8Array(stop - start);
    if (out.length === 0) return out;
    const raw = e.compressionMethod === 0 && !e.isEncrypted();
    try {
      const stream = await this.#zip.openReadStreamPromise(e, raw ? { start, end: stop } : {});
      let at = 0, skip = raw ? 0 : start;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let c: Uint8Array = chunk;
        if (skip > 0) {
          const drop = Math.min(skip, c.length);
          c = c.subarray(drop);
          skip -= drop;
        }
        const take = Math.min(c.length, out.length - at);
        out.set(c.subarray(0, take), at);
        at += take;
        if (at === out.length) {
          (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
          break;
        }
      }
      if (at !== out.length) throw new Error(`it ended after ${at} of ${out.length} bytes`);
    } catch (err) {
      throw new TreeRewardError('CORRUPT_FILE', `Expected to read ${name} from the zip archive ${this.path} but ${(err as Error).message}`, { cause: err });
    }
    return out;
  }

  close(): void {
    this.#zip.close();
  }
}
