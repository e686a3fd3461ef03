// pair-source.ts: where reward training gets its pairs: a deterministic stream of batches, so a
// run resumed at batch k sees exactly the batches it would have seen. StorePairSource draws from
// the feedback store's sampler and decodes the PNGs (with a cache).
import sharp from 'sharp';

import type { RgbImage } from '../api/interfaces.js';
import type { FeedbackStore } from '../data/store/index.js';
import type { SamplerOptions } from '../data/store/sampler.js';
import type { PairSampler } from '../data/store/sampler.js';

export interface TrainingSide {
  prompt: string;
  image: RgbImage;
}

export interface TrainingPair {
  dimension: string;
  winner: TrainingSide;
  loser: TrainingSide;
  tie: boolean;
}

export interface PairSource {
  /** The batch at position `index` of the stream (calls must come in order 0, 1, 2, ... or resume at any k). */
  batch(index: number, size: number): Promise<TrainingPair[]>;
}

/** Decodes PNG files to 8-bit RGB, keeping up to `capacity` images in memory. */
export class ImageCache {
  readonly #images = new Map<string, RgbImage>();
  constructor(readonly capacity = 50_000) {}

  async get(path: string): Promise<RgbImage> {
    const hit = this.#images.get(path);
    if (hit) return hit;
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const img: RgbImage = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    if (this.#images.size >= this.capacity) this.#images.delete(this.#images.keys().next().value!);
    this.#images.set(path, img);
    return img;
  }
}

export class StorePairSource implements PairSource {
  readonly #store: FeedbackStore;
  readonly #options: SamplerOptions;
  readonly #cache: ImageCache;
  #sampler: PairSampler;
  #position = 0;

  constructor(store: FeedbackStore, options: SamplerOptions, cache = new ImageCache()) {
    this.#store = store;
    this.#options = options;
    this.#cache = cache;
    this.#sampler = store.sampler(options);
  }

  get dimensions(): string[] {
    return this.#sampler.dimensions;
  }

  async batch(index: number, size: number): Promise<TrainingPair[]> {
    if (index < this.#position) {
      this.#sampler = this.#store.sampler(this.#options);
      this.#position = 0;
    }
    while (this.#position < index) {
      this.#sampler.sampleIds(size); // the draws a resumed run skips
      this.#position++;
    }
    const pairs = this.#sampler.sample(size);
    this.#position++;
    return Promise.all(
      pairs.map(async (p) => ({
        dimension: p.dimension,
        tie: p.tie,
        winner: { prompt: p.preferred.prompt, image: await this.#cache.get(p.preferred.imagePath) },
        loser: { prompt: p.rejected.prompt, image: await this.#cache.get(p.rejected.imagePath) },
      })),
    );
  }
}
