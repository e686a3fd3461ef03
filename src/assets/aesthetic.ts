// aesthetic.ts: the world's aesthetic score, the stand-in for the LAION aesthetic predictor. Its
// target is the mean of the four aesthetic judges (color, lighting, layout, detail) against a prompt
// that names only the objects, so each judge scores general quality in its dimension (harmony and
// saturation, exposure, balance, sharpness): quality nobody asked for, as LAION's raters judged it.
// The renders vary from clean to badly degraded in random dimensions. As LAION's predictor was, the
// head is fitted by mean squared error on the frozen CLIP's L2-normalised image embeddings.
import { AdamW, F, noGrad, tensor, tidy, type Tensor } from '../api/index.js';
import type { Dimension, RgbImage } from '../api/interfaces.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { formatObjectClause } from '../world/prompt/format.js';
import { Rng, deriveSeed } from '../world/random.js';
import { DIMENSIONS } from '../api/interfaces.js';
import type { Severity } from '../world/render/degrade.js';
import { sampleScene } from '../world/scene.js';
import { spearman } from './contrastive.js';
import { renderWithSeverity } from './scene-data.js';
import { imagesToTensor, normalise } from '../reward/preprocess.js';
import type { WorldClip } from './world-clip.js';

export const AESTHETIC_DIMENSIONS: readonly Dimension[] = ['color', 'lighting', 'layout', 'detail'];

export interface AestheticExample {
  image: RgbImage;
  /** The judges' mean general-quality score in [0, 1]. */
  score: number;
}

/** Mean of the aesthetic judges against `prompt`. */
export function aestheticTarget(image: RgbImage, prompt: string): number {
  return AESTHETIC_DIMENSIONS.reduce((s, d) => s + WORLD_JUDGES[d].score(image, prompt), 0) / AESTHETIC_DIMENSIONS.length;
}

/** Render `index` of stream `key`: a quarter clean, the rest degraded by a random amount in random dimensions. */
export function aestheticExample(seed: number, key: string, index: number, size: number): AestheticExample {
  const s = deriveSeed(seed, `${key}:${index}`);
  const rng = new Rng(deriveSeed(s, 'variety'));
  const scene = sampleScene(s);
  const severity: Severity = {};
  if (!rng.chance(0.25)) {
    const amount = rng.float(0.1, 1);
    for (const d of DIMENSIONS) if (rng.chance(0.6)) severity[d] = Math.min(1, amount * rng.float(0.7, 1.3));
  }
  const image = renderWithSeverity(scene, size, severity, s);
  return { image, score: aestheticTarget(image, formatObjectClause(scene.objects, scene.excluded)) };
}

export function aestheticSet(seed: number, key: string, n: number, size: number, onProgress?: (done: number) => void): AestheticExample[] {
  return Array.from({ length: n }, (_, i) => {
    const e = aestheticExample(seed, key, i, size);
    onProgress?.(i + 1);
    return e;
  });
}

/** The frozen CLIP's L2-normalised image embeddings (n, P) of the examples, in chunks. */
export function clipImageEmbeddings(model: WorldClip, images: readonly RgbImage[], chunk = 64): Tensor {
  return noGrad(() => tidy(() => {
    const parts: Tensor[] = [];
    for (let k = 0; k < images.length; k += chunk) parts.push(model.imageEmbeds(normalise(imagesToTensor(images.slice(k, k + chunk)))));
    return F.concat(parts, 0);
  }));
}

export interface AestheticFit {
  epochs: number;
  trainMse: number;
  /** Held-out: Spearman and MSE of the head's scores against the judges' mean. */
  heldOut: { n: number; spearman: number; mse: number; targetStd: number };
}

/**
 * Fits the aesthetic head by MSE on standardised targets (AdamW, minibatches in a seeded order),
 * then folds the targets' mean and std into its last layer, so it outputs the judges' scale.
 */
export function fitAestheticHead(model: WorldClip, train: { embeds: Tensor; scores: number[] }, heldOut: { embeds: Tensor; scores: number[] }, options: { seed: number; epochs?: number; batch?: number; lr?: number }): AestheticFit {
  const n = train.scores.length;
  const mean = train.scores.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(train.scores.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1;
  const params = [...model.aestheticParameters().values()];
  for (const p of params) p.requiresGrad = true;
  const opt = new AdamW(params, { lr: options.lr ?? 1e-3, weightDecay: 0.01 });
  const epochs = options.epochs ?? 40, batch = Math.min(n, options.batch ?? 64);
  const rng = new Rng(deriveSeed(options.seed, 'aesthetic-order'));
  const z = train.scores.map((y) => (y - mean) / std);
  for (let e = 0; e < epochs; e++) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let k = 0; k + batch <= n; k += batch) {
      const idx = order.slice(k, k + batch);
      opt.zeroGrad();
      tidy(() => {
        const x = F.concat(idx.map((i) => train.embeds.slice(0, i, i + 1)), 0);
        F.mseLoss(model.aestheticScore(x), tensor(idx.map((i) => z[i]), [idx.length])).backward();
      });
      opt.step();
    }
  }
  opt.zeroGrad();
  foldTargetScale(model, mean, std);
  const mse = (embeds: Tensor, scores: number[]) => {
    const pred = predict(model, embeds);
    return { pred, mse: pred.reduce((s, p, i) => s + (p - scores[i]) ** 2, 0) / scores.length };
  };
  const h = mse(heldOut.embeds, heldOut.scores);
  const hm = heldOut.scores.reduce((a, b) => a + b, 0) / heldOut.scores.length;
  return {
    epochs,
    trainMse: mse(train.embeds, train.scores).mse,
    heldOut: {
      n: heldOut.scores.length, spearman: spearman(h.pred, heldOut.scores), mse: h.mse,
      targetStd: Math.sqrt(heldOut.scores.reduce((a, b) => a + (b - hm) ** 2, 0) / heldOut.scores.length),
    },
  };
}

/** Scores of embeddings (n, P). */
export function predict(model: WorldClip, embeds: Tensor): number[] {
  return noGrad(() => tidy(() => Array.from(model.aestheticScore(embeds).toArray())));
}

/** Last layer y -> y * std + mean: weight *= std, bias = bias * std + mean. */
function foldTargetScale(model: WorldClip, mean: number, std: number): void {
  const last = `layers.${2 * (model.aestheticDims.length - 2)}`;
  const p = model.aesthetic.parameters();
  noGrad(() => tidy(() => {
    const w = p.get(`${last}.weight`)!, b = p.get(`${last}.bias`)!;
    const w2 = w.mul(std), b2 = b.mul(std).add(mean);
    model.aesthetic.loadStateDict(new Map([[`${last}.weight`, w2], [`${last}.bias`, b2]]), { strict: false });
  }));
}
