// pretrain-data.ts: the real (prompt, image) pairs of L_pretrain (eq. 10): the preferred images of
// the feedback store's labelled pairs with their prompts, a list held in memory, or a callback. The
// run reads them in a seeded order (DataOrder) whose position its checkpoints keep.
import sharp from 'sharp';

import type { RgbImage } from '../api/interfaces.js';
import { checkInt } from '../api/validate.js';
import type { FeedbackStore } from '../data/store/feedback-store.js';
import type { Split } from '../data/types.js';
import { expected, TreeRewardError } from '../native/errors.js';

export interface CaptionedImage {
  prompt: string;
  image: RgbImage;
}

/** Pairs by index; `length` fixed for a run. Deterministic: index i is always the same pair. */
export interface PretrainSource {
  readonly length: number;
  get(index: number): Promise<CaptionedImage> | CaptionedImage;
}

/** A source over pairs held in memory. */
export function pretrainFromList(items: readonly CaptionedImage[]): PretrainSource {
  if (!Array.isArray(items) || items.length === 0) throw expected('a non-empty array of { prompt, image }', 'items', items);
  items.forEach((it, i) => {
    if (!it || typeof it.prompt !== 'string' || !it.image) throw expected('a { prompt, image }', `items[${i}]`, it);
  });
  return { length: items.length, get: (i) => items[i] };
}

/** A source over a callback: get(i) for i in [0, length). */
export function pretrainFromCallback(length: number, get: (index: number) => Promise<CaptionedImage> | CaptionedImage): PretrainSource {
  checkInt(length, 'length', 1);
  if (typeof get !== 'function') throw expected('a function (index) => { prompt, image }', 'get', get);
  return { length, get };
}

/**
 * The preferred side of every labelled, untied pair of a split, one entry per image, decoded (and
 * resized to `size` when it differs) on first use and kept.
 */
export function pretrainFromStore(store: FeedbackStore, options: { split?: Split; size: number }): PretrainSource {
  const split = options.split ?? 'train';
  const size = checkInt(options.size, 'options.size', 1);
  const seen = new Set<string>();
  const entries: { prompt: string; path: string }[] = [];
  for (const pair of store.iteratePairs({ labelled: true })) {
    if (pair.split !== split || pair.tie) continue;
    const path = store.imagePath(pair.preferred.image);
    if (seen.has(path)) continue;
    seen.add(path);
    entries.push({ prompt: pair.preferred.prompt, path });
  }
  if (entries.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', `Expected labelled pairs in the ${split} split of the feedback store at ${store.dir} for pretrain.store but it has none`);
  const cache = new Map<number, CaptionedImage>();
  return {
    length: entries.length,
    async get(index: number): Promise<CaptionedImage> {
      const hit = cache.get(index);
      if (hit) return hit;
      const { prompt, path } = entries[index];
      let image: RgbImage;
      try {
        const { data, info } = await sharp(path).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
        image = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      } catch (e) {
        throw new TreeRewardError('IO', `Expected a readable image at ${path} (feedback store ${store.dir}) but ${(e as Error).message}`);
      }
      const item = { prompt, image };
      cache.set(index, item);
      return item;
    },
  };
}
