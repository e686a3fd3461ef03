// color.ts: the color judge: the background's chroma against the named palette. A palette's tones
// blend along a segment in the chroma plane, so each background block's distance to that segment
// measures how far the image is from the palette. With no palette named, it scores colors in range:
// a background saturated but not garish, objects saturated, nothing washed out.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { paletteWord, vocabulary } from '../vocabulary/index.js';
import { rgbChroma } from '../pixels/color-space.js';
import { analyzeImage } from './image-analysis.js';
import { backgroundBlocks } from './background-blocks.js';

/** Chroma distance at which the palette score falls to exp(-1). */
const TAU = 0.02;

function segmentDistance(px: number, py: number, a: [number, number], b: [number, number]): number {
  const ex = b[0] - a[0];
  const ey = b[1] - a[1];
  const len2 = ex * ex + ey * ey;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - a[0]) * ex + (py - a[1]) * ey) / len2)) : 0;
  return Math.hypot(px - a[0] - t * ex, py - a[1] - t * ey);
}

/** Mean chroma distance of the background blocks to a palette's tone segment; Infinity with no background. */
export function paletteDistance(image: RgbImage, palette: string): number {
  const blocks = backgroundBlocks(analyzeImage(image));
  const [t0, t1] = paletteWord(palette).tones;
  const a = rgbChroma(t0);
  const b = rgbChroma(t1);
  let sum = 0;
  let wsum = 0;
  for (const blk of blocks) {
    sum += blk.count * segmentDistance(blk.chromaU, blk.chromaV, a, b);
    wsum += blk.count;
  }
  return wsum > 0 ? sum / wsum : Infinity;
}

/** The palette word nearest to the background's chroma. */
export function classifyPalette(image: RgbImage): string {
  let best = '';
  let bestD = Infinity;
  for (const p of vocabulary().palettes) {
    const d = paletteDistance(image, p.name);
    if (d < bestD) (bestD = d), (best = p.name);
  }
  return best;
}

/** 1 inside [lo, hi], falling linearly to 0 at `lo - fall` and `hi + fall`. */
export function inRange(x: number, lo: number, hi: number, fall: number): number {
  if (x < lo) return Math.max(0, 1 - (lo - x) / fall);
  if (x > hi) return Math.max(0, 1 - (x - hi) / fall);
  return 1;
}

/** General color quality: background saturation in [0.2, 0.45], object saturation in [0.6, 0.95]. */
export function colorQuality(image: RgbImage): number {
  const a = analyzeImage(image);
  const blocks = backgroundBlocks(a);
  let s = 0;
  let n = 0;
  for (const blk of blocks) (s += blk.count * blk.saturation), (n += blk.count);
  const bgSat = n > 0 ? s / n : 0;
  let os = 0;
  let on = 0;
  for (const c of a.components) (os += c.area * c.saturation), (on += c.area);
  const objSat = on > 0 ? os / on : 0.8;
  return inRange(bgSat, 0.2, 0.45, 0.15) * (0.5 + 0.5 * inRange(objSat, 0.6, 0.95, 0.2));
}

export function colorScore(image: RgbImage, prompt: string): number {
  const palette = parsePrompt(prompt).palette;
  if (palette === undefined) return colorQuality(image);
  const d = paletteDistance(image, palette);
  return Number.isFinite(d) ? Math.exp(-((d / TAU) ** 2)) : 0;
}

export const colorJudge: Judge = { dimension: 'color', score: colorScore };
