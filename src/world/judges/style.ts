// style.ts: the style judge: the objects' surface pattern against the named style's. A patterned
// style scores (pattern strength) x (a saturating function of the surface's correlation with the
// style's pattern); "flat" scores the absence of a pattern. With no style named, it scores a clear
// surface: a pattern that some style word explains well, or a clean flat one.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { vocabulary } from '../vocabulary/index.js';
import { analyzeImage } from './image-analysis.js';
import { patternCorrelation, surfaceSignal } from './style-texture.js';

/**
 * Explained pattern RMS (log luminance) at which a surface counts as half patterned. "Explained"
 * is the RMS times the best correlation with any style's pattern, so leftover micro-texture noise,
 * which no style explains, does not count as a pattern.
 */
const STRENGTH_E0 = 0.012;

/**
 * How a correlation with the named style's pattern becomes a score: saturating, so a clearly
 * matching surface scores near 1 whether its correlation is 0.8 or 0.95 (blur and micro-texture
 * move it that much), while partial matches (a similar style) fall off: 0.4 -> 0.5, 0.2 -> 0.08.
 */
function matchScore(correlation: number): number {
  return 1 - Math.exp(-((Math.max(0, correlation) / 0.45) ** 3));
}

export interface StyleReading {
  /** 0 = flat surface, 1 = clearly patterned. */
  strength: number;
  /** Correlation in [-1, 1] of the surface with each patterned style. */
  correlations: Map<string, number>;
}

const readings = new WeakMap<Uint8Array, StyleReading>();

export function readStyle(image: RgbImage): StyleReading {
  const hit = readings.get(image.data);
  if (hit && hit.correlations.size === vocabulary().styles.length - 1) return hit;
  const a = analyzeImage(image);
  const s = surfaceSignal(a);
  const correlations = new Map<string, number>();
  for (const st of vocabulary().styles) if (st.pattern.kind !== 'flat') correlations.set(st.name, patternCorrelation(a, s, st.name));
  const explained = s.energy * Math.max(0, ...correlations.values());
  const strength = 1 - Math.exp(-((explained / STRENGTH_E0) ** 4));
  const reading = { strength, correlations };
  readings.set(image.data, reading);
  return reading;
}

function flatStyle(): string {
  return vocabulary().styles.find((s) => s.pattern.kind === 'flat')?.name ?? 'flat';
}

/** The style word that best describes the image's surface. */
export function classifyStyle(image: RgbImage): string {
  const r = readStyle(image);
  if (r.strength < 0.5) return flatStyle();
  let best = flatStyle();
  let bestC = -Infinity;
  for (const [name, c] of r.correlations) if (c > bestC) (bestC = c), (best = name);
  return best;
}

export function styleScore(image: RgbImage, prompt: string): number {
  const r = readStyle(image);
  const style = parsePrompt(prompt).style;
  if (style === undefined) {
    const clarity = matchScore(Math.max(0, ...r.correlations.values()));
    return r.strength * clarity + (1 - r.strength);
  }
  if (style === flatStyle()) return 1 - r.strength;
  return r.strength * matchScore(r.correlations.get(style) ?? 0);
}

export const styleJudge: Judge = { dimension: 'style', score: styleScore };
