// content.ts: the content judge: the named objects are there, in the named colors (by hue) and
// shapes (by outline), and the excluded shapes are not. With no object named, it scores how clearly
// the image shows well-formed objects at all.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import type { ObjectRequirement } from '../prompt/index.js';
import { parsePrompt } from '../prompt/index.js';
import type { ImageAnalysis, ImageComponent } from './image-analysis.js';
import { analyzeImage } from './image-analysis.js';
import { bestShape, colorMatch, nearestColor, shapeMatch } from './shape-match.js';

/** Each object beyond those named multiplies the score by this. */
const EXTRA_OBJECT_FACTOR = 0.75;

export interface DetectedObject {
  shape: string;
  color: string;
  /** Centroid, image fractions. */
  x: number;
  y: number;
  area: number;
  /** IoU of the outline with the best shape. */
  shapeIou: number;
}

/** The objects in an image: one per blob, with its best shape and nearest color word. */
export function detectObjects(image: RgbImage): DetectedObject[] {
  const a = analyzeImage(image);
  return a.components.map((c) => {
    const best = bestShape(a, c);
    return { shape: best.shape, color: nearestColor(c), x: c.cx, y: c.cy, area: c.area, shapeIou: best.iou };
  });
}

function objectMatch(a: ImageAnalysis, c: ImageComponent, o: ObjectRequirement): number {
  const colorScore = o.color === undefined ? 1 : colorMatch(c, o.color);
  return colorScore * shapeMatch(a, c, o.shape);
}

/** Best one-to-one assignment of required objects to blobs (brute force: at most a few of each). */
function bestAssignment(a: ImageAnalysis, required: readonly ObjectRequirement[]): { total: number; used: Set<number> } {
  const comps = a.components.slice().sort((p, q) => q.area - p.area).slice(0, 6);
  const m = required.map((o) => comps.map((c) => objectMatch(a, c, o)));
  let best = { total: -1, used: new Set<number>() };
  const used: number[] = [];
  const walk = (i: number, total: number): void => {
    if (i === required.length) {
      if (total > best.total) best = { total, used: new Set(used.map((k) => comps[k]!.index)) };
      return;
    }
    walk(i + 1, total); // this object unmatched
    for (let k = 0; k < comps.length; k++) {
      if (used.includes(k)) continue;
      used.push(k);
      walk(i + 1, total + m[i]![k]!);
      used.pop();
    }
  };
  walk(0, 0);
  return best;
}

export function contentScore(image: RgbImage, prompt: string): number {
  const a = analyzeImage(image);
  const req = parsePrompt(prompt);
  if (req.objects.length === 0) {
    if (a.components.length === 0) return 0;
    return a.components.reduce((s, c) => s + bestShape(a, c).iou, 0) / a.components.length;
  }
  const { total, used } = bestAssignment(a, req.objects);
  let score = total / req.objects.length;
  const extras = a.components.length - used.size;
  score *= EXTRA_OBJECT_FACTOR ** Math.max(0, extras);
  for (const shape of req.excluded) {
    let present = 0;
    for (const c of a.components) if (!used.has(c.index)) present = Math.max(present, shapeMatch(a, c, shape));
    score *= 1 - present;
  }
  return Math.min(1, Math.max(0, score));
}

export const contentJudge: Judge = { dimension: 'content', score: contentScore };
