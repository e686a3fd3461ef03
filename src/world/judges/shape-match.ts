// shape-match.ts: how well a blob matches each shape word: the soft IoU between the blob's mask and
// the shape's outline scaled to the blob's area and centred on its centroid (shapes are upright, so
// no rotation search). Also the color match of a blob against a color word, by hue.
import { colorWord, shapeGeometry, vocabulary, vocabularyVersion } from '../vocabulary/index.js';
import { hueDistance, rgbHue } from '../pixels/color-space.js';
import type { ImageAnalysis, ImageComponent } from './image-analysis.js';

const iouCache = new WeakMap<ImageComponent, { version: number; scores: Map<string, number> }>();

function shapeIou(a: ImageAnalysis, c: ImageComponent, shape: string): number {
  const { sdf, area } = shapeGeometry(shape);
  const rPx = Math.sqrt(c.area / area);
  const cx = c.cx * a.width;
  const cy = c.cy * a.height;
  const pad = 2;
  const x0 = Math.max(0, Math.min(c.x0, Math.floor(cx - 1.6 * rPx)) - pad);
  const x1 = Math.min(a.width - 1, Math.max(c.x1, Math.ceil(cx + 1.6 * rPx)) + pad);
  const y0 = Math.max(0, Math.min(c.y0, Math.floor(cy - 1.6 * rPx)) - pad);
  const y1 = Math.min(a.height - 1, Math.max(c.y1, Math.ceil(cy + 1.6 * rPx)) + pad);
  const label = c.index + 1;
  let inter = 0;
  let union = 0;
  for (let y = y0; y <= y1; y++) {
    const py = (y + 0.5 - cy) / rPx;
    for (let x = x0; x <= x1; x++) {
      const d = sdf((x + 0.5 - cx) / rPx, py) * rPx;
      const t = d <= -0.5 ? 1 : d >= 0.5 ? 0 : 0.5 - d;
      const m = a.labels[y * a.width + x] === label ? 1 : 0;
      inter += Math.min(m, t);
      union += Math.max(m, t);
    }
  }
  return union > 0 ? inter / union : 0;
}

/** Soft IoU of the blob against every shape word. */
export function shapeScores(a: ImageAnalysis, c: ImageComponent): Map<string, number> {
  const hit = iouCache.get(c);
  if (hit && hit.version === vocabularyVersion()) return hit.scores;
  const scores = new Map<string, number>();
  for (const s of vocabulary().shapes) scores.set(s.name, shapeIou(a, c, s.name));
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
