// detail.ts: the detail judge: edge sharpness and fine texture, each measured so that the other
// factors do not move it.
// - Sharpness: the rise width of the objects' edges in chroma (which no luminance gain, pattern or
//   micro-texture changes), sampled along each edge's normal (see estimateBlur).
// - Texture: the background's log luminance has its lighting and palette blend smooth, so its second
//   differences are the per-pixel micro-texture (minus the known variance of 8-bit rounding).
// The named level scores the distance of (blur, texture) to the level's; with no level named: sharp
// edges and fine texture.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { detailWord, vocabulary } from '../vocabulary/index.js';
import { blurPlane } from '../pixels/blur.js';
import { analyzeImage, erode } from './image-analysis.js';
import type { ImageAnalysis } from './image-analysis.js';

/**
 * 25-75% rise width (image pixels) of an unblurred edge, as sampled along its normal: anti-aliasing
 * is a pixel-level thing, so this does not scale with the image size (blur does).
 */
const EDGE_WIDTH0 = 0.94;
/**
 * Rise width per sigma of blur: 2 * 0.674 = 1.349 for a continuous Gaussian edge, 1.22 as measured
 * through pixel sampling (calibrated on renders at blur 0.5 to 1.5).
 */
const WIDTH_PER_SIGMA = 1.22;
/**
 * Matching a named level: deviations within the slack cost nothing (edge widths vary by about
 * 0.05 px with where edges fall on the pixel grid), beyond it they cost ((d - slack) / tolerance)^2.
 */
const WIDTH_SLACK = 0.1;
const WIDTH_TOLERANCE = 0.15;
const TEXTURE_SLACK = 0.005;
const TEXTURE_TOLERANCE = 0.01;
/** Blur (px) that still counts as perfectly sharp in the general quality score. */
const SHARP_BLUR = 0.3;

export interface DetailReading {
  /** Estimated blur sigma in pixels at 64 px; NaN when no edge could be measured (no objects, or only thin ones). */
  blur: number;
  /** Estimated micro-texture amplitude. */
  texture: number;
  /** Median 25-75% rise width of the object edges in image pixels; the blur estimate comes from it. */
  edgeWidth: number;
  /** Edge profiles the estimate rests on. */
  edges: number;
  /** Image width / 64. */
  scale: number;
}

/** Bilinear sample of an interleaved 2-channel plane at (x, y) in pixel-centre coordinates. */
function sample2(plane: Float32Array, w: number, h: number, x: number, y: number, out: [number, number]): void {
  const fx = Math.min(w - 1, Math.max(0, x - 0.5));
  const fy = Math.min(h - 1, Math.max(0, y - 0.5));
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const tx = fx - x0;
  const ty = fy - y0;
  for (let c = 0; c < 2; c++) {
    const a = plane[2 * (y0 * w + x0) + c]! * (1 - tx) + plane[2 * (y0 * w + x1) + c]! * tx;
    const b = plane[2 * (y1 * w + x0) + c]! * (1 - tx) + plane[2 * (y1 * w + x1) + c]! * tx;
    out[c] = a * (1 - ty) + b * ty;
  }
}

/** Where (in t) a sampled rising profile first crosses `level`, linearly interpolated. */
function crossing(alpha: Float64Array, ts: Float64Array, level: number): number {
  for (let k = 0; k + 1 < alpha.length; k++) {
    const a = alpha[k]!;
    const b = alpha[k + 1]!;
    if (a <= level && b > level) return ts[k]! + ((level - a) / (b - a)) * (ts[k + 1]! - ts[k]!);
  }
  return NaN;
}

/**
 * Blur from the objects' edges: at each boundary pixel, sample chroma along the outward normal
 * (t = -3..3 px at 64 px), express it as the fraction of the way from the object's chroma to the
 * background's, and take the 25-75% rise width; the median over edge points, less the width of an
 * anti-aliased edge, is 1.349 sigma. Chroma ignores the pattern, lighting and micro-texture, and the
 * rise width barely depends on how the object's and background's luminances compare.
 */
function estimateBlur(a: ImageAnalysis): { blur: number; edgeWidth: number; edges: number } {
  const { width: w, height: h, scale } = a;
  const M = new Float32Array(w * h);
  const kept = new Uint8Array(w * h);
  for (let i = 0; i < M.length; i++) kept[i] = M[i] = a.labels[i]! > 0 ? 1 : 0;
  // Inside ends must be at least 2 px deep in the object: thin parts (a ring's band) never reach
  // their plateau once blurred, and would read as sharper than they are.
  const deep = erode(kept, w, h, Math.max(1, Math.round(2 * scale)));
  blurPlane(M, w, h, scale);
  const T = 3 * Math.max(scale, 0.75);
  const steps = 12;
  const ts = new Float64Array(steps + 1);
  for (let k = 0; k <= steps; k++) ts[k] = -T + (2 * T * k) / steps;
  const alpha = new Float64Array(steps + 1);
  const cs = Array.from({ length: steps + 1 }, () => [0, 0] as [number, number]);
  const widths: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const label = a.labels[i]!;
      if (!label) continue;
      if (a.labels[i - 1] && a.labels[i + 1] && a.labels[i - w] && a.labels[i + w]) continue; // not a boundary pixel
      const gx = M[i + 1]! - M[i - 1]!;
      const gy = M[i + w]! - M[i - w]!;
      const g = Math.hypot(gx, gy);
      if (g < 1e-3) continue;
      const nx = -gx / g;
      const ny = -gy / g;
      // Both ends must lie in this object and in the background, not in another object or off the image.
      const xin = x + 0.5 - T * nx, yin = y + 0.5 - T * ny;
      const xout = x + 0.5 + T * nx, yout = y + 0.5 + T * ny;
      if (xin < 0 || yin < 0 || xin >= w || yin >= h || xout < 0 || yout < 0 || xout >= w || yout >= h) continue;
      const pin = Math.floor(yin) * w + Math.floor(xin);
      const pmid = Math.floor(y + 0.5 - 0.5 * T * ny) * w + Math.floor(x + 0.5 - 0.5 * T * nx);
      const pout = Math.floor(yout) * w + Math.floor(xout);
      if (a.labels[pin] !== label || !deep[pin] || a.labels[pmid] !== label || a.objectMask[pout] || a.sat[pout]! > 0.45) continue;
      for (let k = 0; k <= steps; k++) sample2(a.chroma, w, h, x + 0.5 + ts[k]! * nx, y + 0.5 + ts[k]! * ny, cs[k]!);
      const [iu, iv] = cs[0]!;
      const [ou, ov] = cs[steps]!;
      const du = ou - iu;
      const dv = ov - iv;
      const len2 = du * du + dv * dv;
      if (len2 < 0.08 * 0.08) continue; // too little chroma contrast to see the edge
      for (let k = 0; k <= steps; k++) alpha[k] = ((cs[k]![0] - iu) * du + (cs[k]![1] - iv) * dv) / len2;
      // Both ends must be plateaus (a thin part of a shape, or a neighbour, would cut the rise short).
      if (alpha[1]! > 0.1 || alpha[steps - 1]! < 0.9) continue;
      const t25 = crossing(alpha, ts, 0.25);
      const t75 = crossing(alpha, ts, 0.75);
      if (Number.isFinite(t25) && Number.isFinite(t75) && t75 > t25) widths.push(t75 - t25);
    }
  }
  if (widths.length === 0) return { blur: NaN, edgeWidth: NaN, edges: 0 };
  widths.sort((p, q) => p - q);
  const median = widths[Math.floor(widths.length / 2)]!;
  const sigma = Math.sqrt(Math.max(0, median * median - EDGE_WIDTH0 * EDGE_WIDTH0)) / WIDTH_PER_SIGMA / scale;
  return { blur: sigma, edgeWidth: median, edges: widths.length };
}

function estimateTexture(a: ImageAnalysis): number {
  const { width: w, height: h } = a;
  let sum = 0;
  let count = 0;
  const ok = (i: number) => a.backgroundMask[i] && a.lum[i]! >= 8 && Math.max(a.r[i]!, a.g[i]!, a.b[i]!) < 254;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (!ok(i)) continue;
      const l = Math.log(a.lum[i]!);
      // Variance of the rounding of R, G, B seen in log luminance: (0.299^2 + 0.587^2 + 0.114^2) / 12 / Y^2.
      const q = 0.037 / a.lum[i]! ** 2;
      if (ok(i - 1) && ok(i + 1)) {
        const d = l - 0.5 * (Math.log(a.lum[i - 1]!) + Math.log(a.lum[i + 1]!));
        sum += d * d - 1.5 * q;
        count++;
      }
      if (ok(i - w) && ok(i + w)) {
        const d = l - 0.5 * (Math.log(a.lum[i - w]!) + Math.log(a.lum[i + w]!));
        sum += d * d - 1.5 * q;
        count++;
      }
    }
  }
  if (count === 0) return 0;
  // noise uniform in [-a, a]: variance a^2 / 3; a second difference has 1.5 times the variance.
  return Math.sqrt(Math.max(0, (2 * sum) / count));
}

const readings = new WeakMap<ImageAnalysis, DetailReading>();

/** The detail reading of an analysed image (cached). */
export function readDetailOf(a: ImageAnalysis): DetailReading {
  const hit = readings.get(a);
  if (hit) return hit;
  const reading = { ...estimateBlur(a), texture: estimateTexture(a), scale: a.scale };
  readings.set(a, reading);
  return reading;
}

export function readDetail(image: RgbImage): DetailReading {
  return readDetailOf(analyzeImage(image));
}

function levelScore(r: DetailReading, level: string): number {
  const d = detailWord(level);
  const expectedWidth = Math.hypot(EDGE_WIDTH0, WIDTH_PER_SIGMA * d.blur * r.scale);
  const excess = (d: number, slack: number, tolerance: number) => (Math.max(0, Math.abs(d) - slack) / tolerance) ** 2;
  let z = excess(r.texture - d.texture, TEXTURE_SLACK, TEXTURE_TOLERANCE);
  // Wider (blurrier) edges are measured less precisely: slack and tolerance grow with the width.
  const extra = expectedWidth - EDGE_WIDTH0;
  if (r.edges > 0) z += excess(r.edgeWidth - expectedWidth, WIDTH_SLACK + 0.1 * extra, WIDTH_TOLERANCE + 0.1 * extra);
  return Math.exp(-z / 2);
}

export function classifyDetail(image: RgbImage): string {
  const r = readDetail(image);
  let best = '';
  let bestS = -1;
  for (const d of vocabulary().details) {
    const s = levelScore(r, d.name);
    if (s > bestS) (bestS = s), (best = d.name);
  }
  return best;
}

/** General detail quality: sharp edges (blur near 0) and a visible fine texture. */
export function detailQuality(image: RgbImage): number {
  const r = readDetail(image);
  const sharp = r.edges > 0 ? Math.max(0, 1 - Math.max(0, r.blur - SHARP_BLUR) / 1.5) : 0.5;
  const texture = Math.min(1, r.texture / 0.06);
  return sharp * (0.6 + 0.4 * texture);
}

export function detailScore(image: RgbImage, prompt: string): number {
  const level = parsePrompt(prompt).detail;
  if (level === undefined) return detailQuality(image);
  return levelScore(readDetail(image), level);
}

export const detailJudge: Judge = { dimension: 'detail', score: detailScore };
