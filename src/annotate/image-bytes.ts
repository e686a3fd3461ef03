// image-bytes.ts: image files read for the page, with the content-addressed ones (stored images never
// change) kept in memory up to a byte budget, least recently used out first. References to files outside
// the store are read every time, as they may change.
import { readFile } from 'node:fs/promises';

export class ImageBytes {
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;
  readonly budget: number;

  /** `budget`: bytes kept in memory. Defaults to 64 MiB. */
  constructor(budget = 64 * 1024 * 1024) {
    this.budget = budget;
  }

  async read(path: string, immutable: boolean): Promise<Buffer> {
    const hit = this.cache.get(path);
    if (hit) {
      this.cache.delete(path); // most recent last
      this.cache.set(path, hit);
      return hit;
    }
    const data = await readFile(path);
    if (immutable && data.length <= this.budget / 16) {
      this.cache.set(path, data);
      this.bytes += data.length;
      for (const [key, value] of this.cache) {
        if (this.bytes <= this.budget) break;
        this.cache.delete(key);
        this.bytes -= value.length;
      }
    }
    return data;
  }
}
