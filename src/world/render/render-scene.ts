// render-scene.ts: RenderSpec -> RgbImage. The six factors land in separate parts of the pixels:
// the palette in the background's chroma (all tones of one luminance), the object colors in the
// objects' chroma, the style in a low-frequency brightness pattern on the objects, the detail in
// the blur of edges and a per-pixel micro-texture, the lighting in a smooth multiplicative gain, the
// layout in where the objects are. Deterministic: the same spec and size give the same bytes.
import type { RgbImage } from '../../api/interfaces.js';
import type { LightingWord } from '../vocabulary/index.js';
import { lightingGain, patternValue, shapeGeometry, vocabularyVersion } from '../vocabulary/index.js';
import { blurPlane } from '../pixels/blur.js';
import { pixelNoise } from '../random.js';
import type { RenderSpec } from './render-spec.js';
import { resolveScene } from './render-spec.js';
import type { Scene } from '../scene.js';

export const DEFAULT_SIZE = 64;
/**
 * Width (px) of the anti-aliasing ramp across an outline. Wider than a pixel, so an edge looks the
 * same wherever it falls on the pixel grid (a 1 px box filter gives a hard step on pixel boundaries
 * and a half-grey pixel elsewhere).
 */
export const EDGE_RAMP = 1.6;

export function renderSpec(spec: RenderSpec, size: number = DEFAULT_SIZE): RgbImage {
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new Error(`Expected an integer size in [8, 1024] for size but received ${size}`);
  const w = size;
  const h = size;
  const n = w * h;
  const scale = size / 64;
  const R = new Float32Array(n);
  const G = new Float32Array(n);
  const B = new Float32Array(n);

  // 1. background: the palette's two tones blended by a slow wave,
  //    sin(a u + b v + phase) = sin(a u) cos(b v + phase) + cos(a u) sin(b v + phase)
  const [t0, t1] = spec.tones;
  const bg = spec.background;
  const a = 2 * Math.PI * bg.frequency * Math.cos(bg.angle);
  const b = 2 * Math.PI * bg.frequency * Math.sin(bg.angle);
  const sinU = new Float64Array(w);
  const cosU = new Float64Array(w);
  for (let x = 0; x < w; x++) (sinU[x] = Math.sin((a * (x + 0.5)) / w)), (cosU[x] = Math.cos((a * (x + 0.5)) / w));
  for (let y = 0; y < h; y++) {
    const sv = Math.sin((b * (y + 0.5)) / h + bg.phase);
    const cv = Math.cos((b * (y + 0.5)) / h + bg.phase);
    for (let x = 0; x < w; x++) {
      const t = 0.5 + 0.5 * (sinU[x]! * cv + cosU[x]! * sv);
      const i = y * w + x;
      R[i] = t0[0] + (t1[0] - t0[0]) * t;
      G[i] = t0[1] + (t1[1] - t0[1]) * t;
      B[i] = t0[2] + (t1[2] - t0[2]) * t;
    }
  }

  // 2. objects: anti-aliased outlines filled with color * pattern, painted in order
  for (const o of spec.objects) {
    const { sdf } = shapeGeometry(o.shape);
    const rPx = o.radius * size;
    const cx = o.x * size;
    const cy = o.y * size;
    const x0 = Math.max(0, Math.floor(cx - 1.6 * rPx - EDGE_RAMP));
    const x1 = Math.min(w - 1, Math.ceil(cx + 1.6 * rPx + EDGE_RAMP));
    const y0 = Math.max(0, Math.floor(cy - 1.6 * rPx - EDGE_RAMP));
    const y1 = Math.min(h - 1, Math.ceil(cy + 1.6 * rPx + EDGE_RAMP));
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5 - cy;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5 - cx;
        const d = sdf(px / rPx, py / rPx) * rPx;
        const cover = d <= -EDGE_RAMP / 2 ? 1 : d >= EDGE_RAMP / 2 ? 0 : 0.5 - d / EDGE_RAMP;
        if (cover <= 0) continue;
        const p = o.patternDepth > 0 ? patternValue(o.pattern, px / scale, py / scale) : 1;
        const f = 1 - o.patternDepth * (1 - p);
        const i = y * w + x;
        R[i] = R[i]! * (1 - cover) + o.rgb[0] * f * cover;
        G[i] = G[i]! * (1 - cover) + o.rgb[1] * f * cover;
        B[i] = B[i]! * (1 - cover) + o.rgb[2] * f * cover;
      }
    }
  }

  // 3. detail: edge blur
  const sigma = spec.blur * scale;
  if (sigma > 0.05) {
    const scratch = new Float32Array(n);
    blurPlane(R, w, h, sigma, scratch);
    blurPlane(G, w, h, sigma, scratch);
    blurPlane(B, w, h, sigma, scratch);
  }

  // 4. lighting gain and micro-texture, both multiplicative on all three channels
  const data = new Uint8Array(n * 3);
  const gains = spec.lighting.map((l) => gainMap(l.word, l.variant, size));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let gain = 0;
      for (let k = 0; k < gains.length; k++) gain += spec.lighting[k]!.weight * gains[k]![i]!;
      gain *= spec.exposure;
      if (spec.texture > 0) gain *= 1 + spec.texture * pixelNoise(spec.textureSeed, x, y);
      data[3 * i] = clampByte(R[i]! * gain);
      data[3 * i + 1] = clampByte(G[i]! * gain);
      data[3 * i + 2] = clampByte(B[i]! * gain);
    }
  }
  return { width: w, height: h, data };
}

/** A lighting word's gain per pixel at a size, cached (a few dozen maps at most). */
const gainMaps = new Map<string, Float32Array>();
let gainMapsVersion = -1;

function gainMap(word: LightingWord, variant: number, size: number): Float32Array {
  if (gainMapsVersion !== vocabularyVersion()) gainMaps.clear(), (gainMapsVersion = vocabularyVersion());
  const key = `${word.phrase}|${variant}|${size}`;
  let map = gainMaps.get(key);
  if (!map) {
    map = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) map[y * size + x] = lightingGain(word, variant, (x + 0.5) / size, (y + 0.5) / size);
    gainMaps.set(key, map);
  }
  return map;
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

export function renderScene(scene: Scene, size: number = DEFAULT_SIZE): RgbImage {
  return renderSpec(resolveScene(scene), size);
}
