// layout.ts: the layout judge: object centroids against the named layout rule's slots (best slot
// set, best assignment), and nothing cut off by the border. With no layout named: the objects follow
// some composition rule, do not crowd each other and are not cut off.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { layoutWord, vocabulary } from '../vocabulary/index.js';
import type { Point } from '../vocabulary/index.js';
import { analyzeImage } from './image-analysis.js';
import type { ImageComponent } from './image-analysis.js';

/** RMS slot distance (image fractions) at which the score falls to exp(-1). */
const TAU = 0.05;
/** Each object touching the border multiplies the score by this. */
const CUT_FACTOR = 0.5;

function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

/** The objects a layout is judged on: the largest three blobs. */
function layoutObjects(image: RgbImage): ImageComponent[] {
  return analyzeImage(image).components.slice().sort((p, q) => q.area - p.area).slice(0, 3);
}

/** RMS distance of the objects to the layout's nearest slot set; Infinity without objects. */
export function layoutDistance(image: RgbImage, layout: string): number {
  const objs = layoutObjects(image);
  if (objs.length === 0) return Infinity;
  const sets: readonly (readonly Point[])[] = layoutWord(layout).slots[String(objs.length) as '1' | '2' | '3'];
  let best = Infinity;
  for (const slots of sets) {
    for (const perm of permutations(objs.length)) {
      let s = 0;
      perm.forEach((k, i) => (s += (objs[i]!.cx - slots[k]![0]) ** 2 + (objs[i]!.cy - slots[k]![1]) ** 2));
      best = Math.min(best, Math.sqrt(s / objs.length));
    }
  }
  return best;
}

export function classifyLayout(image: RgbImage): string {
  let best = '';
  let bestD = Infinity;
  for (const l of vocabulary().layouts) {
    const d = layoutDistance(image, l.name);
    if (d < bestD) (bestD = d), (best = l.name);
  }
  return best;
}

function cutFactor(image: RgbImage): number {
  return CUT_FACTOR ** analyzeImage(image).components.filter((c) => c.touchesBorder).length;
}

/** General layout quality: follows some rule, objects apart, nothing cut off. */
export function layoutQuality(image: RgbImage): number {
  const a = analyzeImage(image);
  if (a.components.length === 0) return 0;
  const d = Math.min(...vocabulary().layouts.map((l) => layoutDistance(image, l.name)));
  const rule = Math.exp(-((d / (2 * TAU)) ** 2));
  let crowd = 1;
  const objs = layoutObjects(image);
  for (let i = 0; i < objs.length; i++) {
    for (let j = i + 1; j < objs.length; j++) {
      const dist = Math.hypot(objs[i]!.cx - objs[j]!.cx, objs[i]!.cy - objs[j]!.cy);
      const reach = (Math.sqrt(objs[i]!.area / Math.PI) + Math.sqrt(objs[j]!.area / Math.PI)) / a.width;
      if (dist < 1.3 * reach) crowd *= 0.6;
    }
  }
  return cutFactor(image) * crowd * (0.4 + 0.6 * rule);
}

export function layoutScore(image: RgbImage, prompt: string): number {
  const layout = parsePrompt(prompt).layout;
  if (layout === undefined) return layoutQuality(image);
  const d = layoutDistance(image, layout);
  return Number.isFinite(d) ? cutFactor(image) * Math.exp(-((d / TAU) ** 2)) : 0;
}

export const layoutJudge: Judge = { dimension: 'layout', score: layoutScore };
