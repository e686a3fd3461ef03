// render-spec.ts: a scene resolved to the numbers the renderer draws (colors as RGB, the style's
// pattern, the palette's tones, the lighting field, blur and texture). Degradations (degrade.ts) act
// on this numeric form, so a weaker generator can draw "a red star" in a slightly wrong red.
import type { LightingWord, PatternSpec, Rgb } from '../vocabulary/index.js';
import { colorWord, detailWord, lightingWord, paletteWord, styleWord, vocabulary } from '../vocabulary/index.js';
import type { Scene, SceneBackground } from '../scene.js';
import { deriveSeed } from '../random.js';

export interface RenderObject {
  shape: string;
  rgb: Rgb;
  /** Radius and centroid in image fractions. */
  radius: number;
  x: number;
  y: number;
  pattern: PatternSpec;
  /** 0 = no pattern; the vocabulary's styleDepth for a clean render. */
  patternDepth: number;
}

/** One lighting field and its weight; the gain is the weighted sum of the layers' gains. */
export interface LightingLayer {
  word: LightingWord;
  variant: number;
  weight: number;
}

export interface RenderSpec {
  objects: RenderObject[];
  tones: readonly [Rgb, Rgb];
  background: SceneBackground;
  lighting: LightingLayer[];
  /** Global gain on top of the lighting field (1 for a clean render). */
  exposure: number;
  /** Gaussian blur sigma in pixels at 64 px (scaled with the image size). */
  blur: number;
  /** Micro-texture amplitude: each pixel is multiplied by 1 + texture * noise, noise in [-1, 1). */
  texture: number;
  textureSeed: number;
}

export function resolveScene(scene: Scene): RenderSpec {
  const style = styleWord(scene.style);
  const detail = detailWord(scene.detail);
  return {
    objects: scene.objects.map((o) => ({
      shape: o.shape,
      rgb: colorWord(o.color).rgb,
      radius: o.radius,
      x: o.x,
      y: o.y,
      pattern: style.pattern,
      patternDepth: style.pattern.kind === 'flat' ? 0 : vocabulary().styleDepth,
    })),
    tones: paletteWord(scene.palette).tones,
    background: { ...scene.background },
    lighting: [{ word: lightingWord(scene.lighting), variant: scene.lightingVariant, weight: 1 }],
    exposure: 1,
    blur: detail.blur,
    texture: detail.texture,
    textureSeed: deriveSeed(scene.seed, 'texture'),
  };
}
