// style.ts: the style judge: the objects' surface pattern against the named style's. A patterned
// style scores (pattern strength) x (a saturating function of the surface's correlation with the
// style's pattern) x (its amplitude against the depth the style defines, so a faded pattern scores
// lower); "flat" scores the absence of a pattern. With no style named, it scores a clear
// surface: a pattern that some style word explains well, or a clean flat one.
import type { Judge, RgbImage } from '../../api/interfaces.js';
import { parsePrompt } from '../prompt/index.js';
import { vocabulary } from '../vocabulary/index.js';
import { analyzeImage } from './image-analysis.js';
import { patternCorrelation, patternFit, surfaceSignal } from './style-texture.js';
import { readDetailOf } from './detail.js';

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

/**
 * How the pattern's amplitude becomes a score: a pattern at its full depth scores ~1 (0.8 -> 0.98),
 * a faded one less (0.5 -> 0.63, 0.3 -> 0.2).
 */
function amplitudeScore(gain: number): number {
  return 1 - Math.exp(-((Math.max(0, gain) / 0.5) ** 3));
}

/** Correlation and amplitude of a style's pattern, its template blurred as much as the image is. */
function namedFit(image: RgbImage, style: string): { correlation: number; gain: number } {
  const a = analyzeImage(image);
  const blur = readDetailOf(a).blur;
  return patternFit(a, surfaceSignal(a), style, Number.isFinite(blur) ? blur * a.scale : 0);
}

export function styleScore(image: RgbImage, prompt: string): number {
  const r = readStyle(image);
  const style = parsePrompt(prompt).style;
  if (style === undefined) {
    // A clear surface: the best-explaining style's pattern at full depth, or no pattern at all.
    const best = classifyStyle(image);
    if (best === flatStyle()) return 1 - r.strength;
    const fit = namedFit(image, best);
    return r.strength * matchScore(fit.correlation) * amplitudeScore(fit.gain) + (1 - r.strength);
  }
  if (style === flatStyle()) return 1 - r.strength;
  const fit = namedFit(image, style);
  return r.strength * matchScore(fit.correlation) * amplitudeScore(fit.gain);
}

export const styleJudge: Judge = { dimension: 'style', score: styleScore };
