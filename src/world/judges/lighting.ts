// lighting.ts: the lighting judge: the background's luminance field against the named lighting's.
// Every palette tone has the same luminance (the vocabulary's backgroundLuminance), so the
// background's log luminance per block is log(Y0) + log(gain): compare it with each variant of the
// named field and keep the best. With no lighting named: well exposed, nothing clipped, contrast in
// range.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { lightingGain, lightingVariants, lightingWord, vocabulary } from '../vocabulary/index.js';
import { analyzeImage } from './image-analysis.js';
import { backgroundBlocks } from './background-blocks.js';
import { inRange } from './color.js';

/** RMS log-luminance error at which the score falls to exp(-1). */
const TAU = 0.08;

/** Mean squared log-luminance error of the background against a lighting phrase (best variant). */
export function lightingError(image: RgbImage, phrase: string): number {
  const blocks = backgroundBlocks(analyzeImage(image));
  const word = lightingWord(phrase);
  const logY0 = Math.log(vocabulary().backgroundLuminance);
  let best = Infinity;
  for (let variant = 0; variant < lightingVariants(word.field); variant++) {
    let sum = 0;
    let wsum = 0;
    for (const b of blocks) {
      const predicted = logY0 + Math.log(lightingGain(word, variant, b.u, b.v));
      sum += b.count * (b.logLum - predicted) ** 2;
      wsum += b.count;
    }
    if (wsum > 0) best = Math.min(best, sum / wsum);
  }
  return best;
}

export function classifyLighting(image: RgbImage): string {
  let best = '';
  let bestE = Infinity;
  for (const l of vocabulary().lightings) {
    const e = lightingError(image, l.phrase);
    if (e < bestE) (bestE = e), (best = l.phrase);
  }
  return best;
}

/** General lighting quality: mean luminance near mid-grey, little clipping, block contrast in range. */
export function lightingQuality(image: RgbImage): number {
  const a = analyzeImage(image);
  const n = a.width * a.height;
  let sum = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    sum += a.lum[i]!;
    if (Math.max(a.r[i]!, a.g[i]!, a.b[i]!) >= 254 || a.lum[i]! < 3) clipped++;
  }
  const exposure = Math.exp(-((Math.log(sum / n / 115) / 0.45) ** 2));
  const clipping = 1 - Math.min(1, (8 * clipped) / n);
  // Contrast: spread of the coarse luminance field (objects included).
  const G = 8;
  const means: number[] = [];
  for (let by = 0; by < G; by++) {
    for (let bx = 0; bx < G; bx++) {
      let s = 0;
      let c = 0;
      for (let y = Math.floor((by * a.height) / G); y < Math.floor(((by + 1) * a.height) / G); y++) {
        for (let x = Math.floor((bx * a.width) / G); x < Math.floor(((bx + 1) * a.width) / G); x++) (s += Math.log(a.lum[y * a.width + x]! + 1)), c++;
      }
      means.push(s / c);
    }
  }
  const mean = means.reduce((x, y) => x + y, 0) / means.length;
  const spread = Math.sqrt(means.reduce((x, y) => x + (y - mean) ** 2, 0) / means.length);
  const contrast = inRange(spread, 0.06, 0.45, 0.2);
  return exposure * clipping * (0.6 + 0.4 * contrast);
}

export function lightingScore(image: RgbImage, prompt: string): number {
  const phrase = parsePrompt(prompt).lighting;
  if (phrase === undefined) return lightingQuality(image);
  const e = lightingError(image, phrase);
  return Number.isFinite(e) ? Math.exp(-e / (TAU * TAU)) : 0;
}

export const lightingJudge: Judge = { dimension: 'lighting', score: lightingScore };
