// blip-eval.ts: how well the world's BLIP reads held-out scenes. Retrieval R@1 (image -> text and
// text -> image) over the held-out set with the contrastive embeddings, and fine-grained matching:
// for each dimension, the share of images whose ITM score is higher for their caption than for the
// caption with that dimension's attribute changed.
import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import { F, noGrad, tidy } from '../api/index.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { Rng, deriveSeed } from '../world/random.js';
import { encodeTexts, pixelsOf } from './blip-objectives.js';
import { retrievalAt1, type Retrieval } from './contrastive.js';
import type { CaptionedRender } from './scene-data.js';
import type { WorldBlip } from './world-blip.js';
import { editedCaption } from './world-text.js';

export interface BlipEvaluation {
  retrieval: Retrieval;
  /** Per dimension: P(ITM(image, caption) > ITM(image, caption with that attribute changed)); chance 0.5. */
  matching?: { n: number; accuracy: Record<Dimension, number>; mean: number };
}

/** Row-major (n, n) cosine similarities of the held-out images against their captions. */
export function blipSimilarities(model: WorldBlip, tokenizer: Tokenizer, set: readonly CaptionedRender[], chunk = 32): Float32Array {
  const n = set.length;
  return noGrad(() => tidy(() => {
    const img = [], txt = [];
    for (let k = 0; k < n; k += chunk) {
      const part = set.slice(k, k + chunk);
      img.push(model.imageEmbeds(model.backbone.encodeImage(pixelsOf(part))));
      const t = encodeTexts(tokenizer, part.map((p) => p.caption));
      txt.push(model.textEmbeds(t.ids, t.mask));
    }
    return F.concat(img, 0).matmul(F.concat(txt, 0).transpose(0, 1)).toArray() as Float32Array;
  }));
}

/** ITM match scores (logit[match] - logit[no match]) of each image with each of its texts (same count per image). */
function matchScores(model: WorldBlip, tokenizer: Tokenizer, set: readonly CaptionedRender[], texts: string[][]): number[][] {
  return noGrad(() => set.map((item, i) => tidy(() => {
    const tokens = model.backbone.encodeImage(pixelsOf([item]));
    const k = texts[i].length;
    const t = encodeTexts(tokenizer, texts[i]);
    const logits = model.itmLogits(F.concat(Array.from({ length: k }, () => tokens), 0), t.ids, t.mask).toArray();
    return Array.from({ length: k }, (_, r) => logits[2 * r + 1] - logits[2 * r]);
  })));
}

/** Retrieval over the whole set; fine-grained matching over its first `matchingN` items (0: skipped). */
export function evaluateBlip(model: WorldBlip, tokenizer: Tokenizer, set: readonly CaptionedRender[], options: { seed: number; matchingN?: number }): BlipEvaluation {
  const retrieval = retrievalAt1(blipSimilarities(model, tokenizer, set), set.length);
  const m = Math.min(set.length, options.matchingN ?? 0);
  if (m === 0) return { retrieval };
  const items = set.slice(0, m);
  const texts = items.map((it, i) => [it.caption, ...DIMENSIONS.map((d) => editedCaption(it.scene, d, new Rng(deriveSeed(options.seed, `edit:${i}:${d}`))))]);
  const scores = matchScores(model, tokenizer, items, texts);
  const accuracy = Object.fromEntries(DIMENSIONS.map((d, k) => [d, scores.filter((s) => s[0] > s[k + 1]).length / m])) as Record<Dimension, number>;
  return { retrieval, matching: { n: m, accuracy, mean: DIMENSIONS.reduce((s, d) => s + accuracy[d], 0) / DIMENSIONS.length } };
}
