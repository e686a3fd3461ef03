// shape-match.ts: how well a blob matches each shape word, and a blob's color against a color word.
// Shape: the blob's coverage map (for each pixel, how far its chroma lies from the local background's
// toward the object's: lighting, pattern and micro-texture leave chroma alone) against the shape's
// outline scaled to the blob's area, centred on its centroid and blurred as much as the image's
// edges are (the detail judge measures that), compared by soft IoU. Blurring the outline the way the
// image is blurred keeps a blurred star a star rather than a circle. Shapes are upright: no rotation
// search.
import { colorWord, shapeGeometry, vocabulary, vocabularyVersion } from '../vocabulary/index.js';
import { hueDistance, rgbHue } from '../pixels/color-space.js';
import { blurPlane } from '../pixels/blur.js';
import type { ImageAnalysis, ImageComponent } from './image-analysis.js';
import { isPure } from './image-analysis.js';
import { readDetailOf } from './detail.js';

/** Coverage map of one blob on a patch around it. */
interface Coverage {
  x0: number;
  y0: number;
  w: number;
  h: number;
  alpha: Float32Array;
  /** Sum of alpha: the blob's area in pixels. */
  area: number;
  /** Alpha-weighted centroid in image pixels. */
  cx: number;
  cy: number;
  /** Gaussian sigma (px) of the image's edges beyond a 1 px ramp. */
  edgeSigma: number;
}


const coverageCache = new WeakMap<ImageComponent, Coverage>();

function coverageOf(a: ImageAnalysis, c: ImageComponent): Coverage {
  const hit = coverageCache.get(c);
  if (hit) return hit;
  const { width: W, height: H, scale } = a;
  const label = c.index + 1;
  // 1. object chroma and brightness: the blob's pure pixels
  const sats = Array.from(c.pixels, (i) => a.sat[i]!).sort((p, q) => p - q);
  const core = sats[Math.floor(0.9 * (sats.length - 1))]!;
  let ou = 0, ov = 0, osum = 0, on = 0;
  for (const i of c.pixels) {
    if (!isPure(a, i, core)) continue;
    ou += a.chroma[2 * i]!;
    ov += a.chroma[2 * i + 1]!;
    osum += a.r[i]! + a.g[i]! + a.b[i]!;
    on++;
  }
  ou /= on; ov /= on; osum /= on;
  // 2. the patch, and the local background's chroma and brightness around the blob
  const pad = Math.ceil(5 * scale);
  const x0 = Math.max(0, c.x0 - pad);
  const y0 = Math.max(0, c.y0 - pad);
  const x1 = Math.min(W - 1, c.x1 + pad);
  const y1 = Math.min(H - 1, c.y1 + pad);
  let bu = 0, bv = 0, bsum = 0, bn = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * W + x;
      if (!a.backgroundMask[i]) continue;
      bu += a.chroma[2 * i]!;
      bv += a.chroma[2 * i + 1]!;
      bsum += a.r[i]! + a.g[i]! + a.b[i]!;
      bn++;
    }
  }
  if (bn === 0) (bu = 0), (bv = 0), (bsum = osum), (bn = 1);
  bu /= bn; bv /= bn; bsum /= bn;
  const du = ou - bu;
  const dv = ov - bv;
  const len2 = Math.max(1e-6, du * du + dv * dv);
  // Chroma mixes projectively: a fraction f of object reads as f k / (f k + 1 - f), k = brightness ratio.
  const k = bsum > 0 ? osum / bsum : 1;
  // 3. alpha per patch pixel; pixels of (or right next to) other blobs are not this blob
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const alpha = new Float32Array(w * h);
  const near = Math.max(1, Math.round(2 * scale));
  let area = 0, sx = 0, sy = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * W + x;
      let other = false;
      for (let dy = -near; dy <= near && !other; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -near; dx <= near; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          const l = a.labels[yy * W + xx]!;
          if (l !== 0 && l !== label) (other = true), dx = near;
        }
      }
      if (other && a.labels[i] !== label) continue;
      const p = ((a.chroma[2 * i]! - bu) * du + (a.chroma[2 * i + 1]! - bv) * dv) / len2;
      const fc = Math.min(1, Math.max(0, p));
      const f = fc <= 0 ? 0 : fc / (fc + k * (1 - fc));
      alpha[(y - y0) * w + (x - x0)] = f;
      area += f;
      sx += f * (x + 0.5);
      sy += f * (y + 0.5);
    }
  }
  // 4. how blurred the image's edges are (pixels), from the detail judge's edge width (~1.3 px per sigma)
  const width = readDetailOf(a).edgeWidth;
  const sigma = Number.isFinite(width) ? width / 1.3 : 0.7;
  const edgeSigma = Math.sqrt(Math.max(0, sigma * sigma - 0.3 * 0.3));
  const cov = { x0, y0, w, h, alpha, area, cx: area > 0 ? sx / area : 0, cy: area > 0 ? sy / area : 0, edgeSigma };
  coverageCache.set(c, cov);
  return cov;
}

function shapeIou(cov: Coverage, shape: string): number {
  const { sdf, area } = shapeGeometry(shape);
  const rPx = Math.sqrt(cov.area / area);
  if (!(rPx > 0)) return 0;
  const t = new Float32Array(cov.w * cov.h);
  for (let y = 0; y < cov.h; y++) {
    const py = (cov.y0 + y + 0.5 - cov.cy) / rPx;
    for (let x = 0; x < cov.w; x++) {
      const d = sdf((cov.x0 + x + 0.5 - cov.cx) / rPx, py) * rPx;
      t[y * cov.w + x] = d <= -0.5 ? 1 : d >= 0.5 ? 0 : 0.5 - d;
    }
  }
  blurPlane(t, cov.w, cov.h, cov.edgeSigma);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < t.length; i++) {
    inter += Math.min(cov.alpha[i]!, t[i]!);
    union += Math.max(cov.alpha[i]!, t[i]!);
  }
  return union > 0 ? inter / union : 0;
}

const iouCache = new WeakMap<ImageComponent, { version: number; scores: Map<string, number> }>();

/** Soft IoU of the blob against every shape word. */
export function shapeScores(a: ImageAnalysis, c: ImageComponent): Map<string, number> {
  const hit = iouCache.get(c);
  if (hit && hit.version === vocabularyVersion()) return hit.scores;
  const cov = coverageOf(a, c);
  const scores = new Map<string, number>();
  for (const s of vocabulary().shapes) scores.set(s.name, shapeIou(cov, s.name));
  iouCache.set(c, { version: vocabularyVersion(), scores });
  return scores;
}

/** The best-matching shape word and its IoU. */
export function bestShape(a: ImageAnalysis, c: ImageComponent): { shape: string; iou: number } {
  let best = { shape: '', iou: -1 };
  for (const [shape, iou] of shapeScores(a, c)) if (iou > best.iou) best = { shape, iou };
  return best;
}

/** 1 when `shape` is the blob's best match, falling off with its IoU margin to the best. */
export function shapeMatch(a: ImageAnalysis, c: ImageComponent, shape: string): number {
  const scores = shapeScores(a, c);
  const named = scores.get(shape) ?? 0;
  const best = bestShape(a, c).iou;
  return Math.exp(-(best - named) / 0.04);
}

/** Hue tolerance (degrees) of a color match; neighbouring color words are 26 to 50 degrees apart. */
const HUE_TOLERANCE = 16;

export function colorMatch(c: ImageComponent, color: string): number {
  const d = hueDistance(c.hue, rgbHue(colorWord(color).rgb));
  return Math.exp(-((d / HUE_TOLERANCE) ** 2));
}

/** The nearest color word by hue. */
export function nearestColor(c: ImageComponent): string {
  let best = '';
  let bestD = Infinity;
  for (const w of vocabulary().colors) {
    const d = hueDistance(c.hue, rgbHue(w.rgb));
    if (d < bestD) (bestD = d), (best = w.name);
  }
  return best;
}
