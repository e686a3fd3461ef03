// judge-robustness.ts: do the judges still rank images correctly after they pass through the
// generator's VAE? Issue 7 asks it once a VAE exists: everything the generator draws, and everything
// ReFL optimises, comes out of the VAE's decoder, so a judge that only reads what the VAE erases
// (fine texture, say) would grade noise. For each dimension, pairs of the renderer's image of a
// prompt stressing that dimension and the same image degraded in that dimension alone (the world's
// weaker generator, quality 0.35): the judge's ranking accuracy on the raw pair and on the pair after
// an encode-decode round trip of both images (the posterior's mean, no sampling noise).
import { DIMENSIONS, type Dimension, type RgbImage } from '../api/interfaces.js';
import { noGrad } from '../api/autograd.js';
import { tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { splitMoments } from '../diffusion/latent-posterior.js';
import { imagesToPixels, pixelsToImages } from '../diffusion/pipeline/rgb-images.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { stressPrompt } from '../world/prompt-sets.js';
import { deriveSeed } from '../world/random.js';
import { WorldGenerator } from '../world/world-generator.js';

/** The accuracy the judges should keep after the round trip (issue 7). */
export const ROBUSTNESS_TARGET = 0.9;

export interface RobustnessDimension {
  dimension: Dimension;
  pairs: number;
  /** Fraction of pairs the judge ranks clean above degraded (a tie counts a half). */
  raw: number;
  roundTrip: number;
  /** Mean judge score of the clean and degraded images, raw and after the round trip. */
  scores: { raw: [number, number]; roundTrip: [number, number] };
  meetsTarget: boolean;
}

export interface RobustnessReport {
  format: 'treereward-judge-robustness/1';
  pairsPerDimension: number;
  quality: number;
  seed: number;
  target: number;
  dimensions: RobustnessDimension[];
  allMeetTarget: boolean;
  seconds: number;
}

export interface RobustnessOptions {
  /** Pairs per dimension. Defaults to 50. */
  pairs?: number;
  /** Quality of the degraded image (the world generator's). Defaults to 0.35. */
  quality?: number;
  /** Seeds the prompts and scenes. Defaults to 0. */
  seed?: number;
  /** Image size. Defaults to 64. */
  size?: number;
  /** Images per VAE call. Defaults to 16. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What the round trip needs of a VAE (AutoencoderKL has it): pixels to moments [B, 2C, h, w], latents to pixels. */
export interface RoundTripCodec {
  encode(pixels: Tensor): Tensor;
  decode(latents: Tensor): Tensor;
}

/** Images through the VAE and back: encode, the posterior's mean, decode. */
export function vaeRoundTrip(vae: RoundTripCodec, images: readonly RgbImage[], batch = 16): RgbImage[] {
  const out: RgbImage[] = [];
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    out.push(...noGrad(() => tidy(() => {
      const decoded = vae.decode(splitMoments(vae.encode(imagesToPixels(chunk))).mean);
      return pixelsToImages(decoded);
    })));
  }
  return out;
}

/** Ranking accuracy over pairs: 1 where a > b, a half where equal. */
function accuracy(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! > b[i]! ? 1 : a[i] === b[i] ? 0.5 : 0;
  return a.length ? s / a.length : 0;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : 0);

export function measureJudgeRobustness(vae: RoundTripCodec, options: RobustnessOptions = {}): RobustnessReport {
  const t0 = performance.now();
  const n = options.pairs ?? 50, quality = options.quality ?? 0.35, seed = options.seed ?? 0, size = options.size ?? 64;
  if (!Number.isInteger(n) || n < 1) throw new Error(`Expected a positive integer for pairs but received ${n}`);
  if (!(quality >= 0 && quality < 1)) throw new Error(`Expected a quality in [0, 1) for quality but received ${quality}`);
  const world = new WorldGenerator({ size });
  const dimensions: RobustnessDimension[] = [];
  let done = 0;
  for (const dim of DIMENSIONS) {
    const prompts: string[] = [], clean: RgbImage[] = [], weak: RgbImage[] = [];
    for (let i = 0; i < n; i++) {
      const s = deriveSeed(seed, `judge-robustness:${dim}:${i}`) & 0x7fffffff;
      const prompt = stressPrompt(dim, s);
      prompts.push(prompt);
      clean.push(world.render(prompt, s).image);
      weak.push(world.render(prompt, s, { quality, degrade: [dim] }).image);
    }
    const judge = WORLD_JUDGES[dim];
    const score = (images: RgbImage[]) => images.map((img, i) => judge.score(img, prompts[i]!) as number);
    const rawClean = score(clean), rawWeak = score(weak);
    const rtClean = score(vaeRoundTrip(vae, clean, options.batch)), rtWeak = score(vaeRoundTrip(vae, weak, options.batch));
    const roundTrip = accuracy(rtClean, rtWeak);
    dimensions.push({
      dimension: dim, pairs: n, raw: accuracy(rawClean, rawWeak), roundTrip,
      scores: { raw: [mean(rawClean), mean(rawWeak)], roundTrip: [mean(rtClean), mean(rtWeak)] },
      meetsTarget: roundTrip >= ROBUSTNESS_TARGET,
    });
    options.onProgress?.((done += 1), DIMENSIONS.length);
  }
  return {
    format: 'treereward-judge-robustness/1', pairsPerDimension: n, quality, seed, target: ROBUSTNESS_TARGET, dimensions,
    allMeetTarget: dimensions.every((d) => d.meetsTarget), seconds: (performance.now() - t0) / 1000,
  };
}

export function formatRobustness(r: RobustnessReport): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [`judge ranking accuracy, renderer vs the same image degraded in one dimension (quality ${r.quality}), ${r.pairsPerDimension} pairs per dimension, raw -> after a VAE round trip (target ${pct(r.target)}):`];
  for (const d of r.dimensions) {
    lines.push(`  ${d.dimension.padEnd(9)} ${pct(d.raw).padStart(6)} -> ${pct(d.roundTrip).padStart(6)}  (scores ${d.scores.raw[0].toFixed(3)}/${d.scores.raw[1].toFixed(3)} -> ${d.scores.roundTrip[0].toFixed(3)}/${d.scores.roundTrip[1].toFixed(3)})${d.meetsTarget ? '' : '  below the target'}`);
  }
  return lines;
}
