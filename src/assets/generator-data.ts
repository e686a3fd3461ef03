// generator-data.ts: what the world's base generator and its fine-tune learn from.
//   pretraining   random scenes rendered by the world, each with its prompt from the grammar (all
//                 of it or the objects and some clauses), of mixed quality as web images are: most
//                 renders are spoilt a little in some aesthetic dimensions (never in content, so the
//                 prompt stays true). Scenes holding a held-out object-color combination are redrawn,
//                 and a prompt that is a benchmark prompt is redrawn.
//   fine-tuning   the renderer's best images: for each training prompt (drawn as the benchmark's are,
//                 never one of them) several renders of mixed quality, keeping the one the six judges
//                 score highest on average (the stand-in for JourneyDB's curated images).
//   held-out      prompts naming a held-out combination, each with a control prompt that differs only
//                 in that object's color (a combination seen in training).
// Every example is a pure function of (seed, index, size), so a resumed run reads the same data.
import type { Dimension, RgbImage } from '../api/interfaces.js';
import { DIMENSIONS } from '../api/interfaces.js';
import { imagesToPixels } from '../diffusion/pipeline/rgb-images.js';
import type { ImageTextDataset } from '../diffusion/train/image-text-data.js';
import { isBenchmarkPrompt, trainingPrompt } from '../world/benchmark.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { formatPrompt, parsePrompt, type ObjectRequirement, type PromptRequirements } from '../world/prompt/index.js';
import { Rng, deriveSeed } from '../world/random.js';
import { describeScene, sampleScene } from '../world/scene.js';
import { vocabulary } from '../world/vocabulary/index.js';
import { WorldGenerator } from '../world/world-generator.js';
import { renderWithSeverity } from './scene-data.js';
import { fullCaption, partialCaption } from './world-text.js';

/** Object-color combinations no training prompt or image holds: one per shape, each in its own color. */
export const HELD_OUT_COMBOS: readonly Required<ObjectRequirement>[] = [
  { color: 'red', shape: 'star' }, { color: 'orange', shape: 'ring' }, { color: 'yellow', shape: 'cross' }, { color: 'lime', shape: 'heart' },
  { color: 'green', shape: 'circle' }, { color: 'cyan', shape: 'square' }, { color: 'blue', shape: 'triangle' }, { color: 'purple', shape: 'diamond' },
];

export function isHeldOutCombo(o: ObjectRequirement): boolean {
  return HELD_OUT_COMBOS.some((h) => h.shape === o.shape && h.color === o.color);
}

/** The dimensions a pretraining render may be spoilt in: all but content. */
const AESTHETIC: readonly Dimension[] = ['style', 'color', 'lighting', 'layout', 'detail'];

export interface PretrainVariety {
  /** Share of renders spoilt in some aesthetic dimensions. Defaults to 0.6. */
  degradeRate?: number;
  /** Largest severity of a spoilt dimension. Defaults to 0.6. */
  maxSeverity?: number;
  /** Share of prompts naming every attribute. Defaults to 0.5. */
  fullCaptionRate?: number;
}

export interface GeneratorExample {
  image: RgbImage;
  prompt: string;
}

/** Pretraining example `index` of stream `seed` at `size` px. */
export function pretrainExample(seed: number, index: number, size: number, variety: PretrainVariety = {}): GeneratorExample {
  for (let attempt = 0; ; attempt++) {
    const s = deriveSeed(seed, `generator:${index}:${attempt}`);
    const scene = sampleScene(s);
    if (scene.objects.some(isHeldOutCombo)) continue;
    const rng = new Rng(deriveSeed(s, 'caption'));
    const prompt = rng.chance(variety.fullCaptionRate ?? 0.5) ? fullCaption(scene) : partialCaption(scene, rng);
    if (isBenchmarkPrompt(prompt)) continue;
    const severity: Partial<Record<Dimension, number>> = {};
    if (rng.chance(variety.degradeRate ?? 0.6)) {
      const amount = rng.float(0.05, variety.maxSeverity ?? 0.6);
      for (const d of AESTHETIC) if (rng.chance(0.5)) severity[d] = amount * rng.float(0.6, 1);
    }
    return { image: renderWithSeverity(scene, size, severity, s), prompt };
  }
}

export interface CuratedExample extends GeneratorExample {
  /** The kept render's mean judge score. */
  score: number;
  /** The mean over all candidates' mean judge scores. */
  candidatesMean: number;
}

export interface CurationOptions {
  /** Renders per prompt. Defaults to 4. */
  candidates?: number;
  /** Candidates' quality is uniform in [minQuality, 1]. Defaults to 0.4. */
  minQuality?: number;
}

/** The mean of the six judges' scores of an image for its prompt. */
export function meanJudgeScore(image: RgbImage, prompt: string): number {
  return DIMENSIONS.reduce((s, d) => s + WORLD_JUDGES[d].score(image, prompt), 0) / DIMENSIONS.length;
}

/** A training prompt stressing `dimension` with no held-out combination (never a benchmark prompt). */
export function generatorTrainingPrompt(dimension: Dimension, seed: number): string {
  for (let attempt = 0; ; attempt++) {
    const p = trainingPrompt(dimension, deriveSeed(seed, `no-held-out:${attempt}`));
    if (!parsePrompt(p).objects.some(isHeldOutCombo)) return p;
  }
}

/** Fine-tuning example `index`: the best of several renders of a training prompt, by mean judge score. */
export function curatedExample(seed: number, index: number, size: number, options: CurationOptions = {}): CuratedExample {
  const prompt = generatorTrainingPrompt(DIMENSIONS[index % DIMENSIONS.length], deriveSeed(seed, `curated:${index}`));
  const world = new WorldGenerator({ size });
  const rng = new Rng(deriveSeed(seed, `curated:${index}:quality`));
  let best: { image: RgbImage; score: number } | null = null;
  let sum = 0;
  const k = options.candidates ?? 4;
  for (let c = 0; c < k; c++) {
    const quality = rng.float(options.minQuality ?? 0.4, 1);
    const image = world.render(prompt, deriveSeed(seed, `curated:${index}:seed:${c}`) & 0x7fffffff, { quality, degrade: AESTHETIC }).image;
    const score = meanJudgeScore(image, prompt);
    sum += score;
    if (!best || score > best.score) best = { image, score };
  }
  return { image: best!.image, prompt, score: best!.score, candidatesMean: sum / k };
}

/**
 * Examples 0..length-1 as the training loops read them; the newest `cache` examples are kept (each
 * is a pure function of its index, so the cache changes nothing but time).
 */
export function generatedDataset<T extends GeneratorExample>(length: number, example: (index: number) => T, cache = 4096): ImageTextDataset & { example(index: number): T } {
  const kept = new Map<number, T>();
  const get = (i: number): T => {
    let e = kept.get(i);
    if (!e) {
      e = example(i);
      kept.set(i, e);
      if (kept.size > cache) kept.delete(kept.keys().next().value as number);
    }
    return e;
  };
  return {
    length,
    example: get,
    batch: (indices) => {
      const items = indices.map(get);
      return { pixels: imagesToPixels(items.map((e) => e.image)), prompts: items.map((e) => e.prompt) };
    },
  };
}

export interface HeldOutPrompt {
  /** Names a held-out combination. */
  heldOut: string;
  /** The same prompt with that object in a color seen in training. */
  control: string;
  combo: Required<ObjectRequirement>;
}

/** `n` prompts naming a held-out combination (cycling through them), each with its control. */
export function heldOutContentPrompts(seed: number, n: number): HeldOutPrompt[] {
  const v = vocabulary();
  return Array.from({ length: n }, (_, i) => {
    const combo = HELD_OUT_COMBOS[i % HELD_OUT_COMBOS.length];
    const rng = new Rng(deriveSeed(seed, `held-out-content:${i}`));
    const full = describeScene(sampleScene(deriveSeed(seed, `held-out-scene:${i}`)));
    const objects: Required<ObjectRequirement>[] = [combo];
    if (rng.chance(0.5)) {
      // a second object, of another shape, in a combination seen in training
      let other: Required<ObjectRequirement>;
      do other = { shape: rng.pick(v.shapes).name, color: rng.pick(v.colors).name };
      while (other.shape === combo.shape || isHeldOutCombo(other));
      objects.push(other);
    }
    const req: PromptRequirements = { objects, excluded: [], triggers: [], unknown: [] };
    for (const key of ['style', 'palette', 'lighting', 'layout', 'detail'] as const) if (rng.chance(0.5)) req[key] = full[key];
    let color: string;
    do color = rng.pick(v.colors).name;
    while (color === combo.color || isHeldOutCombo({ shape: combo.shape, color }));
    return {
      heldOut: formatPrompt(req),
      control: formatPrompt({ ...req, objects: [{ shape: combo.shape, color }, ...objects.slice(1)] }),
      combo,
    };
  });
}
