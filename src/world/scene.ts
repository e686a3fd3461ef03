// scene.ts: a scene of the synthetic world (1-3 objects on a background, with a style, a palette,
// a lighting, a layout and a detail level) and its sampling from a seed. Each attribute draws from
// its own sub-stream of the seed, so a prompt that changes one attribute leaves the others as they
// were: the style-substitution strategy renders two scenes that differ in the style alone.
import type { Point } from './vocabulary/index.js';
import { lightingVariants, lightingWord, layoutWord, vocabulary } from './vocabulary/index.js';
import type { ObjectRequirement, PromptRequirements } from './prompt/index.js';
import { Rng } from './random.js';

export interface SceneObject {
  shape: string;
  color: string;
  /** Radius in image fractions. */
  radius: number;
  /** Area centroid in image fractions (x right, y down). */
  x: number;
  y: number;
}

/** How the palette's two tones blend across the background: t = 0.5 + 0.5 sin(2 pi f (u cos a + v sin a) + phase). */
export interface SceneBackground {
  angle: number;
  frequency: number;
  phase: number;
}

export interface Scene {
  objects: SceneObject[];
  excluded: string[];
  style: string;
  palette: string;
  lighting: string;
  lightingVariant: number;
  layout: string;
  layoutVariant: number;
  detail: string;
  background: SceneBackground;
  /** The seed the scene was drawn from; also seeds its micro-texture. */
  seed: number;
}

export interface SampleOptions {
  /** Probability that a sampled scene (objects not given) excludes a shape. Defaults to 0.15. */
  negationRate?: number;
  /** Weights of 1, 2 and 3 objects. Defaults to [0.35, 0.35, 0.3]. */
  countWeights?: readonly [number, number, number];
}

function sampleObjects(rng: Rng, options: SampleOptions): { objects: ObjectRequirement[]; excluded: string[] } {
  const v = vocabulary();
  const count = rng.weighted([1, 2, 3], options.countWeights ?? [0.35, 0.35, 0.3]);
  const objects: ObjectRequirement[] = [];
  while (objects.length < count) {
    const o = { shape: rng.pick(v.shapes).name, color: rng.pick(v.colors).name };
    if (!objects.some((p) => p.shape === o.shape && p.color === o.color)) objects.push(o);
  }
  const excluded: string[] = [];
  if (rng.chance(options.negationRate ?? 0.15)) {
    const free = v.shapes.map((s) => s.name).filter((s) => !objects.some((o) => o.shape === s));
    if (free.length > 0) excluded.push(rng.pick(free));
  }
  return { objects, excluded };
}

/** The slots of a layout rule for n objects (n clamped to 1..3). */
export function layoutSlots(layout: string, n: number): readonly (readonly Point[])[] {
  const key = String(Math.min(3, Math.max(1, n))) as '1' | '2' | '3';
  return layoutWord(layout).slots[key];
}

/** Places radii on a layout's slot set, with a small natural jitter (image fractions). */
export function placeObjects(layout: string, variant: number, n: number, rng: Rng): Point[] {
  const sets = layoutSlots(layout, n);
  const slots = sets[variant % sets.length]!;
  const order = rng.shuffle(slots.map((_, i) => i));
  return order.map((i) => {
    const [x, y] = slots[i]!;
    return [x + rng.float(-0.01, 0.01), y + rng.float(-0.01, 0.01)] as Point;
  });
}

/**
 * The scene a prompt's requirements describe, with every attribute the prompt leaves open drawn
 * from the seed. `sampleScene(seed)` is the same with nothing required.
 */
export function sceneFromRequirements(req: Partial<PromptRequirements>, seed: number, options: SampleOptions = {}): Scene {
  const v = vocabulary();
  const root = new Rng(seed);
  const given = req.objects && req.objects.length > 0;
  const drawn = given ? { objects: req.objects!, excluded: req.excluded ?? [] } : sampleObjects(root.fork('objects'), options);
  const colorRng = root.fork('colors');
  const shapesInScene = drawn.objects.slice(0, 3);
  const n = shapesInScene.length;
  const layout = req.layout ?? root.fork('layout').pick(v.layouts).name;
  const layoutVariant = root.fork('layout-variant').int(0, 1 << 30);
  const positions = placeObjects(layout, layoutVariant, n, root.fork('positions'));
  const [rLo, rHi] = v.objectRadius[String(n) as '1' | '2' | '3'];
  const sizeRng = root.fork('sizes');
  const objects = shapesInScene.map((o, i) => ({
    shape: o.shape,
    color: o.color ?? colorRng.pick(v.colors).name,
    radius: sizeRng.float(rLo, rHi),
    x: positions[i]![0],
    y: positions[i]![1],
  }));
  const lighting = req.lighting ?? root.fork('lighting').pick(v.lightings).phrase;
  const bg = root.fork('background');
  return {
    objects,
    excluded: drawn.excluded.slice(),
    style: req.style ?? root.fork('style').pick(v.styles).name,
    palette: req.palette ?? root.fork('palette').pick(v.palettes).name,
    lighting,
    lightingVariant: root.fork('lighting-variant').int(0, lightingVariants(lightingWord(lighting).field)),
    layout,
    layoutVariant: layoutVariant % layoutSlots(layout, n).length,
    detail: req.detail ?? root.fork('detail').pick(v.details).name,
    background: { angle: bg.float(0, 2 * Math.PI), frequency: bg.float(0.4, 1.0), phase: bg.float(0, 2 * Math.PI) },
    seed: seed >>> 0,
  };
}

export function sampleScene(seed: number, options: SampleOptions = {}): Scene {
  return sceneFromRequirements({}, seed, options);
}

/** The requirements that name every attribute of a scene (the full prompt of what was drawn). */
export function describeScene(scene: Scene): PromptRequirements {
  return {
    objects: scene.objects.map((o) => ({ shape: o.shape, color: o.color })),
    excluded: scene.excluded.slice(),
    style: scene.style,
    palette: scene.palette,
    lighting: scene.lighting,
    layout: scene.layout,
    detail: scene.detail,
    triggers: [],
    unknown: [],
  };
}
