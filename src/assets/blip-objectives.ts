// blip-objectives.ts: BLIP's pretraining losses that fit the world (Li et al. 2022, sec. 3.2):
//   ITC  image-text contrastive: s(I, T) = v(I) . t(T) / temp on the unimodal embeddings, in-batch
//        negatives, the symmetric cross-entropy with a learnable temperature;
//   ITM  image-text matching: a binary head on the multimodal [CLS]; each image meets a hard negative
//        caption (a caption of the batch drawn from softmax(s), or, with probability editRate, its own
//        caption with one attribute changed), and each caption a hard negative image drawn from s.
// The language-modelling loss (BLIP's captioner) is left out: the world needs no decoder.
import { F, tensor, type Tensor } from '../api/index.js';
import { imagesToTensor, normalise } from '../reward/preprocess.js';
import { batchToTensors } from '../tokenizers/tensors.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { Rng, deriveSeed } from '../world/random.js';
import { drawHardNegatives, rowsOf, symmetricContrastiveLoss, transposed } from './contrastive.js';
import type { CaptionedRender } from './scene-data.js';
import type { WorldBlip } from './world-blip.js';
import { randomEditedCaption } from './world-text.js';

export interface BlipObjectiveOptions {
  /** Share of image-side ITM negatives that are the image's own caption with one attribute edited. Defaults to 0.5. */
  editRate?: number;
}

export interface BlipLoss {
  loss: Tensor;
  parts: { itc: Tensor; itm: Tensor };
}

/** Tokenised texts as engine tensors, padded to the batch's longest. */
export function encodeTexts(tokenizer: Tokenizer, texts: string[]): { ids: Tensor; mask: Tensor } {
  return batchToTensors(tokenizer.encode(texts, { padding: 'longest' }));
}

/** Rendered images -> normalised pixels (B, 3, S, S). */
export function pixelsOf(batch: readonly CaptionedRender[]): Tensor {
  return normalise(imagesToTensor(batch.map((b) => b.image)));
}

/** L = L_itc + L_itm on one batch; `rng` draws the hard negatives (seed it from the step for exact resume). */
export function blipLoss(model: WorldBlip, tokenizer: Tokenizer, batch: readonly CaptionedRender[], rng: Rng, options: BlipObjectiveOptions = {}): BlipLoss {
  const B = batch.length;
  const captions = batch.map((b) => b.caption);
  const text = encodeTexts(tokenizer, captions);
  const imageTokens = model.backbone.encodeImage(pixelsOf(batch)); // (B, N, E)

  // 1. ITC: image i against every caption of the batch
  const sim = model.imageEmbeds(imageTokens).matmul(model.textEmbeds(text.ids, text.mask).transpose(0, 1)).div(model.temp); // (B, B)
  const itc = symmetricContrastiveLoss(sim);

  // 2. hard negatives, drawn from softmax(s) (no gradient); identical captions never count as negatives
  const s = sim.detach().toArray();
  const differ = (i: number, j: number) => captions[i] !== captions[j];
  const negImage = drawHardNegatives(transposed(s, B), B, differ, rng).map((j, i) => (j < 0 ? (i + 1) % B : j));
  const negText = drawHardNegatives(s, B, differ, rng).map((j, i) =>
    j < 0 || rng.chance(options.editRate ?? 0.5) ? randomEditedCaption(batch[i].scene, rng).caption : captions[j]);

  // 3. ITM on (image, caption), (image, negative caption), (negative image, caption)
  const itmText = encodeTexts(tokenizer, [...captions, ...negText, ...captions]);
  const itmTokens = F.concat([imageTokens, imageTokens, rowsOf(imageTokens, negImage)], 0);
  const labels = tensor(Int32Array.from({ length: 3 * B }, (_, k) => (k < B ? 1 : 0)), [3 * B], { dtype: 'int32' });
  const itm = F.crossEntropy(model.itmLogits(itmTokens, itmText.ids, itmText.mask), labels);
  return { loss: itc.add(itm), parts: { itc, itm } };
}

/** The hard-negative stream of a training step. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng(deriveSeed(seed, `negatives:${step}`));
}
