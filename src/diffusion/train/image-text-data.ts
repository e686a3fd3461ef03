// image-text-data.ts: what the training loops read: (image, caption) pairs by index, and a seeded
// order over them, epoch after epoch, whose position is saved in checkpoints so a resumed run reads
// the same batches the uninterrupted run would have read.
import { Rng } from '../../api/create.js';
import type { RgbImage } from '../../api/interfaces.js';
import type { Tensor } from '../../api/tensor.js';
import { checkInt } from '../../api/validate.js';
import { expected } from '../../native/errors.js';
import { imagesToPixels } from '../pipeline/rgb-images.js';

export interface ImageTextBatch {
  /** (B, 3, H, W) in [-1, 1]. */
  pixels: Tensor;
  prompts: string[];
}

export interface ImageTextDataset {
  readonly length: number;
  /** The pairs at these indices; the caller disposes the pixels. */
  batch(indices: number[]): ImageTextBatch;
}

/** A dataset over images and their captions held in memory. */
export function imageTextDataset(images: readonly RgbImage[], prompts: readonly string[]): ImageTextDataset {
  if (!Array.isArray(images) || images.length === 0) throw expected('a non-empty array of images', 'images', images);
  if (!Array.isArray(prompts) || prompts.length !== images.length) throw expected(`${images.length} prompts (one per image)`, 'prompts', prompts);
  return {
    length: images.length,
    batch: (indices) => ({ pixels: imagesToPixels(indices.map((i) => images[i])), prompts: indices.map((i) => prompts[i]) }),
  };
}

export interface DataPosition {
  epoch: number;
  /** Items of this epoch's order already read. */
  index: number;
}

/**
 * A seeded shuffle per epoch (Fisher-Yates over uniforms drawn at offset epoch * length of
 * Rng(seed)): a pure function of (seed, epoch). Batches run on into the next epoch.
 */
export class DataOrder {
  readonly length: number;
  readonly seed: number;
  #position: DataPosition = { epoch: 0, index: 0 };
  #order: number[] | null = null;

  constructor(length: number, seed: number) {
    this.length = checkInt(length, 'length', 1);
    this.seed = checkInt(seed, 'seed', 0);
  }

  get position(): DataPosition {
    return { ...this.#position };
  }
  set position(p: DataPosition) {
    checkInt(p?.epoch, 'position.epoch', 0);
    checkInt(p?.index, 'position.index', 0);
    if (p.index > this.length) throw expected(`an index in [0, ${this.length}]`, 'position.index', p.index);
    this.#position = { epoch: p.epoch, index: p.index };
    this.#order = null;
  }

  /** The order of one epoch. */
  epochOrder(epoch: number): number[] {
    const rng = new Rng(this.seed);
    rng.offset = epoch * this.length;
    const u = rng.rand([this.length], { dtype: 'float64' });
    const uniforms = u.toArray();
    u.dispose();
    const order = Array.from({ length: this.length }, (_, i) => i);
    for (let i = this.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(uniforms[i] * (i + 1)));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /** The next `size` indices. */
  next(size: number): number[] {
    checkInt(size, 'size', 1);
    const out: number[] = [];
    while (out.length < size) {
      if (this.#position.index >= this.length) {
        this.#position = { epoch: this.#position.epoch + 1, index: 0 };
        this.#order = null;
      }
      this.#order ??= this.epochOrder(this.#position.epoch);
      out.push(this.#order[this.#position.index]);
      this.#position = { epoch: this.#position.epoch, index: this.#position.index + 1 };
    }
    return out;
  }
}
