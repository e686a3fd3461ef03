// scene-data.ts: the image-text data the world's encoders pretrain on, drawn deterministically from
// (seed, index): random scenes rendered at the encoder's size, each with its caption. Training
// renders are sometimes mildly degraded for variety (never in content, and never so much that the
// caption stops being true); a caption that happens to be a benchmark prompt is redrawn, so the
// benchmark stays unseen. Held-out scenes come from their own stream and are rendered clean.
import type { Dimension, RgbImage } from '../api/interfaces.js';
import { isBenchmarkPrompt } from '../world/benchmark.js';
import { degradeSpec, type Severity } from '../world/render/degrade.js';
import { renderSpec } from '../world/render/render-scene.js';
import { resolveScene } from '../world/render/render-spec.js';
import { Rng, deriveSeed } from '../world/random.js';
import { sampleScene, type Scene } from '../world/scene.js';
import { fullCaption, partialCaption } from './world-text.js';

export interface CaptionedRender {
  image: RgbImage;
  scene: Scene;
  caption: string;
  /** The degradation applied (empty for a clean render). */
  severity: Severity;
}

/** Dimensions a caption-preserving degradation may touch: all but content (a hue shift renames a color). */
const MILD_DIMENSIONS: readonly Dimension[] = ['style', 'color', 'lighting', 'layout', 'detail'];

export interface VarietyOptions {
  /** Share of training renders that are degraded. Defaults to 0.5. */
  degradeRate?: number;
  /** Largest severity of a degraded dimension. Defaults to 0.3. */
  maxSeverity?: number;
  /** Share of captions that name every attribute (the rest name the objects and some clauses). Defaults to 0.5. */
  fullCaptionRate?: number;
}

/** Renders a scene at `size` px with a degradation (empty: clean). */
export function renderWithSeverity(scene: Scene, size: number, severity: Severity, seed: number): RgbImage {
  let spec = resolveScene(scene);
  if (Object.keys(severity).length > 0) spec = degradeSpec(spec, severity, new Rng(deriveSeed(seed, 'degrade')));
  return renderSpec(spec, size);
}

/** Training example `index` of the stream `seed`: a pure function of (seed, index, size, options). */
export function trainingExample(seed: number, index: number, size: number, options: VarietyOptions = {}): CaptionedRender {
  for (let attempt = 0; ; attempt++) {
    const s = deriveSeed(seed, `train:${index}:${attempt}`);
    const rng = new Rng(deriveSeed(s, 'caption'));
    const scene = sampleScene(s);
    const caption = rng.chance(options.fullCaptionRate ?? 0.5) ? fullCaption(scene) : partialCaption(scene, rng);
    if (isBenchmarkPrompt(caption)) continue;
    const severity: Severity = {};
    if (rng.chance(options.degradeRate ?? 0.5)) {
      const amount = rng.float(0.05, options.maxSeverity ?? 0.3);
      for (const d of MILD_DIMENSIONS) if (rng.chance(0.5)) severity[d] = amount;
    }
    return { image: renderWithSeverity(scene, size, severity, s), scene, caption, severity };
  }
}

/**
 * A training batch: examples [step * batch, (step + 1) * batch), modulo `scenes` when the data is
 * a finite set (undefined: every pair is a new scene).
 */
export function trainingBatch(seed: number, step: number, batch: number, size: number, options: VarietyOptions & { scenes?: number } = {}): CaptionedRender[] {
  const n = options.scenes ?? Infinity;
  return Array.from({ length: batch }, (_, i) => trainingExample(seed, (step * batch + i) % n, size, options));
}

/** `n` held-out scenes (their own seed stream), rendered clean, with full captions. */
export function heldOutSet(seed: number, n: number, size: number): CaptionedRender[] {
  return Array.from({ length: n }, (_, i) => {
    const s = deriveSeed(seed, `held-out:${i}`);
    const scene = sampleScene(s);
    return { image: renderWithSeverity(scene, size, {}, s), scene, caption: fullCaption(scene), severity: {} };
  });
}
