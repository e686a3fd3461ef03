// background-blocks.ts: the background seen through a coarse grid: per block, the mean chroma, HSV
// saturation and log luminance of its background pixels (those well away from objects). Averaging
// first makes the palette and lighting judges robust to the per-pixel micro-texture and rounding.
import type { ImageAnalysis } from './image-analysis.js';

export interface BackgroundBlock {
  /** Block centre, image fractions. */
  u: number;
  v: number;
  /** Background pixels in the block. */
  count: number;
  chromaU: number;
  chromaV: number;
  saturation: number;
  logLum: number;
}

export const GRID = 8;

const cache = new WeakMap<ImageAnalysis, BackgroundBlock[]>();

export function backgroundBlocks(a: ImageAnalysis): BackgroundBlock[] {
  const hit = cache.get(a);
  if (hit) return hit;
  const { width: w, height: h } = a;
  const blocks: BackgroundBlock[] = [];
  const minCount = Math.max(2, Math.round((w * h) / (GRID * GRID) / 5));
  for (let by = 0; by < GRID; by++) {
    const y0 = Math.floor((by * h) / GRID);
    const y1 = Math.floor(((by + 1) * h) / GRID);
    for (let bx = 0; bx < GRID; bx++) {
      const x0 = Math.floor((bx * w) / GRID);
      const x1 = Math.floor(((bx + 1) * w) / GRID);
      let count = 0, cu = 0, cv = 0, s = 0, ll = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = y * w + x;
          if (!a.backgroundMask[i]) continue;
          const mx = Math.max(a.r[i]!, a.g[i]!, a.b[i]!);
          if (mx >= 254 || a.lum[i]! < 4) continue; // clipped pixels say nothing about color or light
          count++;
          cu += a.chroma[2 * i]!;
          cv += a.chroma[2 * i + 1]!;
          s += a.sat[i]!;
          ll += Math.log(a.lum[i]!);
        }
      }
      if (count < minCount) continue;
      blocks.push({ u: (x0 + x1) / 2 / w, v: (y0 + y1) / 2 / h, count, chromaU: cu / count, chromaV: cv / count, saturation: s / count, logLum: ll / count });
    }
  }
  cache.set(a, blocks);
  return blocks;
}
