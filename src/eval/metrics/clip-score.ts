// clip-score.ts: CLIP score, max(100 * cos(image embedding, text embedding), 0) per image and its
// prompt (torchmetrics' CLIPScore per pair), with any dual encoder behind ImageTextEncoder: a
// ClipModel with its tokenizer (real CLIP weights, or the world CLIP once its asset exists).
import { noGrad, tidy, type Tensor } from '../../api/index.js';
import type { RgbImage } from '../../api/interfaces.js';
import type { ClipModel } from '../../models/clip.js';
import { normalizeImage } from '../../models/image-normalize.js';
import { batchToTensors } from '../../tokenizers/tensors.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import { pixelsAt } from './image-input.js';

/** A dual image-text encoder: L2-normalised embeddings of one width P on both sides. */
export interface ImageTextEncoder {
  readonly name: string;
  /** Square input size in pixels. */
  readonly imageSize: number;
  /** pixels (B, 3, S, S) in [0, 1] at imageSize (normalised inside) -> (B, P), rows of unit length. */
  embedImages(pixels: Tensor): Tensor;
  /** prompts -> (B, P), rows of unit length. */
  embedTexts(prompts: string[]): Tensor;
}

/** A ClipModel (HF layout) and its tokenizer as an ImageTextEncoder. */
export class ClipEncoder implements ImageTextEncoder {
  readonly name: string;
  constructor(readonly model: ClipModel, readonly tokenizer: Tokenizer, options: { name?: string; mean?: readonly number[]; std?: readonly number[] } = {}) {
    this.name = options.name ?? 'clip';
    this.mean = options.mean;
    this.std = options.std;
  }
  private readonly mean?: readonly number[];
  private readonly std?: readonly number[];

  get imageSize(): number {
    return this.model.vision.config.image_size;
  }

  embedImages(pixels: Tensor): Tensor {
    return this.model.imageEmbeds(normalizeImage(pixels, this.mean, this.std));
  }

  embedTexts(prompts: string[]): Tensor {
    const max = this.model.text.config.max_position_embeddings;
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { maxLength: Math.min(max, this.tokenizer.maxLength) }));
    return this.model.textEmbeds(ids, { mask });
  }
}

/**
 * CLIP score of each row pair: max(100 * <a_i, b_i> / (|a_i| |b_i|), 0). `a` and `b` are (B, P)
 * row-major; rows need not be normalised.
 */
export function clipScoreOf(a: ArrayLike<number>, b: ArrayLike<number>, width: number): number[] {
  if (a.length !== b.length || a.length % width !== 0) throw new Error(`Expected two (B, ${width}) embeddings of one shape for a and b but received ${a.length} and ${b.length} values`);
  const out: number[] = [];
  for (let i = 0; i < a.length / width; i++) {
    let ab = 0, aa = 0, bb = 0;
    for (let k = i * width; k < (i + 1) * width; k++) {
      ab += a[k]! * b[k]!;
      aa += a[k]! * a[k]!;
      bb += b[k]! * b[k]!;
    }
    const cos = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
    out.push(Math.max(100 * cos, 0));
  }
  return out;
}

/** Embeddings of images (any size) as plain arrays: (B * P) values and P. */
export async function imageEmbeddings(encoder: ImageTextEncoder, images: readonly RgbImage[], batchSize = 32): Promise<{ values: Float32Array; width: number }> {
  const parts: Float32Array[] = [];
  let width = 0;
  for (let a = 0; a < images.length; a += batchSize) {
    const pixels = await pixelsAt(images.slice(a, a + batchSize), encoder.imageSize);
    try {
      const e = noGrad(() => tidy(() => {
        const t = encoder.embedImages(pixels);
        return { values: Float32Array.from(t.toArray() as ArrayLike<number>), width: t.shape[1]! };
      }));
      parts.push(e.values);
      width = e.width;
    } finally {
      pixels.dispose();
    }
  }
  return { values: concat(parts), width };
}

export function textEmbeddings(encoder: ImageTextEncoder, prompts: readonly string[], batchSize = 64): { values: Float32Array; width: number } {
  const parts: Float32Array[] = [];
  let width = 0;
  for (let a = 0; a < prompts.length; a += batchSize) {
    const e = noGrad(() => tidy(() => {
      const t = encoder.embedTexts(prompts.slice(a, a + batchSize));
      return { values: Float32Array.from(t.toArray() as ArrayLike<number>), width: t.shape[1]! };
    }));
    parts.push(e.values);
    width = e.width;
  }
  return { values: concat(parts), width };
}

/** CLIP score of each image against its own prompt. */
export async function clipScores(encoder: ImageTextEncoder, prompts: readonly string[], images: readonly RgbImage[]): Promise<number[]> {
  if (prompts.length !== images.length) throw new Error(`Expected one prompt per image (${images.length}) for prompts but received ${prompts.length}`);
  if (images.length === 0) return [];
  const img = await imageEmbeddings(encoder, images);
  const txt = textEmbeddings(encoder, prompts);
  if (img.width !== txt.width) throw new Error(`Expected image and text embeddings of one width but received ${img.width} and ${txt.width} from ${encoder.name}`);
  return clipScoreOf(img.values, txt.values, img.width);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
