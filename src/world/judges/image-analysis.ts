// image-analysis.ts: what every judge reads off an image's pixels, computed once per image and
// cached: luminance, saturation, hue and chroma per pixel; the object mask (saturated pixels: the
// world's objects are saturated, its backgrounds are not); connected objects with their area,
// centroid, hue and border contact; and the background pixels well away from any object.
import type { RgbImage } from '../../api/interfaces.js';
import { chroma, hue, luminance, saturation } from '../pixels/color-space.js';

/** Pixels at least this saturated (HSV) belong to objects. */
export const OBJECT_SATURATION = 0.5;

export interface ImageComponent {
  /** Index in `components`; `labels` holds index + 1. */
  index: number;
  /** Pixel indices (y * width + x). */
  pixels: Int32Array;
  area: number;
  /** Area centroid in image fractions. */
  cx: number;
  cy: number;
  /** Inclusive pixel bounding box. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Saturation-weighted circular mean hue of the interior, degrees. */
  hue: number;
  /** Mean HSV saturation. */
  saturation: number;
  touchesBorder: boolean;
}

export interface ImageAnalysis {
  width: number;
  height: number;
  /** width / 64: the world's lengths are given at 64 pixels. */
  scale: number;
  r: Float32Array;
  g: Float32Array;
  b: Float32Array;
  lum: Float32Array;
  sat: Float32Array;
  hue: Float32Array;
  /** Opponent chroma (u, v) interleaved. */
  chroma: Float32Array;
  objectMask: Uint8Array;
  /** 0 = no object, k + 1 = components[k] (only components kept, i.e. not tiny specks). */
  labels: Int32Array;
  components: ImageComponent[];
  /** Background pixels at least `margin` pixels from any object pixel. */
  backgroundMask: Uint8Array;
}

const cache = new WeakMap<Uint8Array, ImageAnalysis>();

/**
 * Whether pixel i is pure object color: its saturation within 5% of the object's typical (`core`,
 * the 90th percentile of its blob), less the rounding error of dark pixels (about 1.5 / max channel).
 * Mixing in background lowers saturation; lighting, pattern and micro-texture, being gains, do not.
 */
export function isPure(a: ImageAnalysis, i: number, core: number): boolean {
  const max = Math.max(a.r[i]!, a.g[i]!, a.b[i]!);
  return a.sat[i]! >= 0.95 * core - 1.5 / Math.max(1, max);
}

export function checkImage(image: RgbImage, name = 'image'): void {
  if (!image || !(image.data instanceof Uint8Array) || !Number.isInteger(image.width) || !Number.isInteger(image.height)) {
    throw new Error(`Expected an RgbImage {width, height, data: Uint8Array} for ${name} but received ${typeof image}`);
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(`Expected ${image.width * image.height * 3} bytes (width * height * 3) for ${name}.data but received ${image.data.length}`);
  }
}

/** Dilates a binary mask by a square of half-width `radius` (separable). */
export function dilate(mask: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice();
  const tmp = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let d = -radius; d <= radius && !v; d++) {
        const xx = x + d;
        if (xx >= 0 && xx < w && mask[y * w + xx]) v = 1;
      }
      tmp[y * w + x] = v;
    }
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let d = -radius; d <= radius && !v; d++) {
        const yy = y + d;
        if (yy >= 0 && yy < h && tmp[yy * w + x]) v = 1;
      }
      out[y * w + x] = v;
    }
  }
  return out;
}

/** Erodes a binary mask by a square of half-width `radius` (the complement's dilation). */
export function erode(mask: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  const inv = new Uint8Array(w * h);
  for (let i = 0; i < inv.length; i++) inv[i] = mask[i] ? 0 : 1;
  const grown = dilate(inv, w, h, radius);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = grown[i] ? 0 : 1;
  return out;
}

function findComponents(a: Omit<ImageAnalysis, 'labels' | 'components' | 'backgroundMask'>): { labels: Int32Array; components: ImageComponent[] } {
  const { width: w, height: h, objectMask } = a;
  const minArea = Math.max(4, Math.round(12 * a.scale * a.scale));
  const seen = new Uint8Array(w * h);
  const labels = new Int32Array(w * h);
  const components: ImageComponent[] = [];
  const stack = new Int32Array(w * h);
  for (let start = 0; start < w * h; start++) {
    if (!objectMask[start] || seen[start]) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    const pixels: number[] = [];
    while (top > 0) {
      const p = stack[--top]!;
      pixels.push(p);
      const x = p % w;
      const y = (p - x) / w;
      if (x > 0 && objectMask[p - 1] && !seen[p - 1]) (seen[p - 1] = 1), (stack[top++] = p - 1);
      if (x < w - 1 && objectMask[p + 1] && !seen[p + 1]) (seen[p + 1] = 1), (stack[top++] = p + 1);
      if (y > 0 && objectMask[p - w] && !seen[p - w]) (seen[p - w] = 1), (stack[top++] = p - w);
      if (y < h - 1 && objectMask[p + w] && !seen[p + w]) (seen[p + w] = 1), (stack[top++] = p + w);
    }
    if (pixels.length < minArea) continue;
    let sx = 0, sy = 0, x0 = w, y0 = h, x1 = 0, y1 = 0, hc = 0, hs = 0, ssum = 0;
    for (const p of pixels) {
      const x = p % w;
      const y = (p - x) / w;
      sx += x + 0.5;
      sy += y + 0.5;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const s = a.sat[p]!;
      ssum += s;
      // Weight hue by saturation squared: edge pixels mixed with the background count little.
      const wgt = s * s;
      const rad = (a.hue[p]! * Math.PI) / 180;
      hc += wgt * Math.cos(rad);
      hs += wgt * Math.sin(rad);
    }
    let meanHue = (Math.atan2(hs, hc) * 180) / Math.PI;
    if (meanHue < 0) meanHue += 360;
    const index = components.length;
    for (const p of pixels) labels[p] = index + 1;
    components.push({
      index,
      pixels: Int32Array.from(pixels),
      area: pixels.length,
      cx: sx / pixels.length / w,
      cy: sy / pixels.length / h,
      x0, y0, x1, y1,
      hue: meanHue,
      saturation: ssum / pixels.length,
      touchesBorder: x0 === 0 || y0 === 0 || x1 === w - 1 || y1 === h - 1,
    });
  }
  return { labels, components };
}

export function analyzeImage(image: RgbImage): ImageAnalysis {
  const hit = cache.get(image.data);
  if (hit && hit.width === image.width) return hit;
  checkImage(image);
  const w = image.width;
  const h = image.height;
  const n = w * h;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const lum = new Float32Array(n);
  const sat = new Float32Array(n);
  const hueP = new Float32Array(n);
  const chr = new Float32Array(2 * n);
  const objectMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const R = image.data[3 * i]!;
    const G = image.data[3 * i + 1]!;
    const B = image.data[3 * i + 2]!;
    r[i] = R;
    g[i] = G;
    b[i] = B;
    lum[i] = luminance(R, G, B);
    const s = saturation(R, G, B);
    sat[i] = s;
    hueP[i] = hue(R, G, B);
    const [u, v] = chroma(R, G, B);
    chr[2 * i] = u;
    chr[2 * i + 1] = v;
    objectMask[i] = s >= OBJECT_SATURATION && Math.max(R, G, B) >= 16 ? 1 : 0;
  }
  const base = { width: w, height: h, scale: w / 64, r, g, b, lum, sat, hue: hueP, chroma: chr, objectMask };
  const { labels, components } = findComponents(base);
  const near = dilate(objectMask, w, h, Math.max(1, Math.round(3 * base.scale)));
  const backgroundMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) backgroundMask[i] = near[i] ? 0 : 1;
  const analysis: ImageAnalysis = { ...base, labels, components, backgroundMask };
  cache.set(image.data, analysis);
  return analysis;
}
