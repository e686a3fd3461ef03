// style-texture.ts: the objects' surface pattern, the style judge's measure. On each object's
// interior: log luminance, minus a quadratic surface fitted per object (removes the lighting, which
// is smooth over an object), lightly smoothed (removes the per-pixel micro-texture). What is left is
// the pattern signal s. Its RMS is the pattern's strength. Its normalised correlation with a style's
// pattern, laid out from each object's centroid as the style word defines it (and fitted the same
// way), says how much of s that style explains.
import { patternValue, styleWord, vocabulary } from '../vocabulary/index.js';
import { maskedBlur } from '../pixels/blur.js';
import type { ImageAnalysis } from './image-analysis.js';
import { erode, isPure } from './image-analysis.js';

const SMOOTH_SIGMA = 0.7;


export interface SurfaceSignal {
  /** Interior pixel indices used, grouped by object. */
  regions: { pixels: Int32Array; cx: number; cy: number }[];
  /** Pattern signal per pixel (0 outside the regions). */
  signal: Float32Array;
  /** RMS of the signal over the regions (log luminance units). */
  energy: number;
}

/** Least-squares fit of v over pixels with basis [1, x, y, x^2, xy, y^2] (or [1, x, y] when few). */
function fitSurface(pixels: Int32Array, values: (i: number) => number, w: number): (i: number) => number {
  const quadratic = pixels.length >= 40;
  const k = quadratic ? 6 : 3;
  const ata = Array.from({ length: k }, () => new Float64Array(k));
  const atb = new Float64Array(k);
  const basis = new Float64Array(k);
  const fill = (i: number) => {
    const x = ((i % w) - w / 2) / w;
    const y = (Math.floor(i / w) - w / 2) / w;
    basis[0] = 1;
    basis[1] = x;
    basis[2] = y;
    if (quadratic) (basis[3] = x * x), (basis[4] = x * y), (basis[5] = y * y);
  };
  for (const i of pixels) {
    fill(i);
    const v = values(i);
    for (let r = 0; r < k; r++) {
      atb[r]! += basis[r]! * v;
      for (let c = 0; c < k; c++) ata[r]![c]! += basis[r]! * basis[c]!;
    }
  }
  for (let r = 0; r < k; r++) ata[r]![r]! += 1e-9;
  const coef = solve(ata, atb);
  return (i: number) => {
    fill(i);
    let s = 0;
    for (let r = 0; r < k; r++) s += coef[r]! * basis[r]!;
    return s;
  };
}

/** Gaussian elimination with partial pivoting (small dense systems). */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = a.map((row) => Float64Array.from(row));
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    [x[c], x[p]] = [x[p]!, x[c]!];
    const d = m[c]![c]!;
    if (Math.abs(d) < 1e-15) continue;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) m[r]![k]! -= f * m[c]![k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let k = c + 1; k < n; k++) s -= m[c]![k]! * x[k]!;
    x[c] = Math.abs(m[c]![c]!) < 1e-15 ? 0 : s / m[c]![c]!;
  }
  return x;
}

const signals = new WeakMap<ImageAnalysis, SurfaceSignal>();

/** The pattern signal of the objects in an analysed image. */
export function surfaceSignal(a: ImageAnalysis): SurfaceSignal {
  const hit = signals.get(a);
  if (hit) return hit;
  const { width: w, height: h } = a;
  const interior = erode(a.objectMask, w, h, Math.max(1, Math.round(a.scale)));
  const regions: SurfaceSignal['regions'] = [];
  const resid = new Float32Array(w * h);
  const mask = new Float32Array(w * h);
  for (const c of a.components) {
    // Pure object pixels only: saturation near the object's own (mixing in background lowers it;
    // lighting and pattern, being gains, do not), so blurred rims do not read as pattern.
    const sats = Array.from(c.pixels, (i) => a.sat[i]!).sort((p, q) => p - q);
    const core = sats[Math.floor(0.9 * (sats.length - 1))]!;
    const pixels = Int32Array.from(Array.from(c.pixels).filter((i) => interior[i] && isPure(a, i, core)));
    if (pixels.length < 6) continue;
    const logLum = (i: number) => Math.log(a.lum[i]! + 1);
    const fit = fitSurface(pixels, logLum, w);
    for (const i of pixels) (resid[i] = logLum(i) - fit(i)), (mask[i] = 1);
    regions.push({ pixels, cx: c.cx * w, cy: c.cy * h });
  }
  const signal = maskedBlur(resid, mask, w, h, SMOOTH_SIGMA * a.scale);
  let e2 = 0;
  let count = 0;
  for (const r of regions) for (const i of r.pixels) (e2 += signal[i]! ** 2), count++;
  const out = { regions, signal, energy: count > 0 ? Math.sqrt(e2 / count) : 0 };
  signals.set(a, out);
  return out;
}

/**
 * The fit of a style's pattern to the signal: laid out from each object's centroid (log of the
 * albedo factor), fitted per object like the signal, and, unless `blurPx` is null, blurred inside
 * the objects as the image's blur (`blurPx`) and the signal's smoothing blurred the real pattern.
 * `correlation` in [-1, 1] says how much of the signal the pattern explains; `gain` is the
 * least-squares amplitude of the pattern in the signal (1 = the full depth the style word defines).
 */
export function patternFit(a: ImageAnalysis, s: SurfaceSignal, style: string, blurPx: number | null = null): { correlation: number; gain: number } {
  const { pattern } = styleWord(style);
  if (pattern.kind === 'flat') return { correlation: 0, gain: 0 };
  const depth = vocabulary().styleDepth;
  const w = a.width;
  const n = w * a.height;
  const t = new Float32Array(n);
  const mask = new Float32Array(n);
  for (const r of s.regions) {
    const template = (i: number) => {
      const x = (i % w) + 0.5 - r.cx;
      const y = Math.floor(i / w) + 0.5 - r.cy;
      return Math.log(1 - depth * (1 - patternValue(pattern, x / a.scale, y / a.scale)));
    };
    for (const i of r.pixels) t[i] = template(i);
    const fit = fitSurface(r.pixels, (i) => t[i]!, w);
    for (const i of r.pixels) (t[i] = t[i]! - fit(i)), (mask[i] = 1);
  }
  const tb = blurPx === null ? t : maskedBlur(t, mask, w, a.height, Math.hypot(blurPx, SMOOTH_SIGMA * a.scale));
  let dot = 0;
  let ss = 0;
  let tt = 0;
  for (const r of s.regions) {
    for (const i of r.pixels) {
      dot += s.signal[i]! * tb[i]!;
      ss += s.signal[i]! ** 2;
      tt += tb[i]! ** 2;
    }
  }
  return { correlation: ss > 0 && tt > 0 ? dot / Math.sqrt(ss * tt) : 0, gain: tt > 0 ? dot / tt : 0 };
}

/** Normalised correlation in [-1, 1] between the signal and a style's unblurred pattern. */
export function patternCorrelation(a: ImageAnalysis, s: SurfaceSignal, style: string): number {
  return patternFit(a, s, style).correlation;
}
