// types.ts: what a word of the world's vocabulary means, as data: each word carries the parameters
// that the renderer draws and the judges measure (a shape's outline, a style's pattern, a palette's
// tones, a lighting word's luminance field, a layout's slots, a detail level's blur and texture).
import type { Dimension } from '../../api/interfaces.js';

export type Rgb = readonly [number, number, number];
/** A point in image fractions: x to the right, y down, both in [0, 1]. */
export type Point = readonly [number, number];

/** An object color (content). Saturated, so objects stand out from the desaturated palettes. */
export interface ColorWord {
  name: string;
  rgb: Rgb;
}

/** An outline in unit-radius coordinates (y down); the renderer scales it by the object's radius. */
export type ShapeSpec =
  | { kind: 'circle'; radius: number }
  | { kind: 'ring'; outer: number; inner: number }
  | { kind: 'box'; halfWidth: number; halfHeight: number }
  | { kind: 'plus'; arm: number; thickness: number }
  | { kind: 'regular'; sides: number; radius: number; rotationDeg: number }
  | { kind: 'star'; points: number; outer: number; inner: number }
  | { kind: 'polygon'; points: readonly Point[] }
  | { kind: 'heart'; size: number };

export interface ShapeWord {
  name: string;
  shape: ShapeSpec;
}

/**
 * A low-frequency brightness pattern on the objects, in 64-pixel units relative to the object's
 * centre; p(x, y) in [0, 1] (1 = light) and the albedo is multiplied by 1 - depth * (1 - p).
 */
export type PatternKind =
  | { kind: 'flat' }
  | { kind: 'stripes'; period: number; angleDeg: number }
  | { kind: 'crosshatch'; period: number; sharpness: number }
  | { kind: 'checker'; cell: number }
  /** Light dots on a dark surface, on a square lattice. */
  | { kind: 'dots'; period: number; radius: number }
  | { kind: 'grid'; period: number; sharpness: number }
  | { kind: 'wavy'; period: number; amplitude: number; wavelength: number }
  | { kind: 'zigzag'; period: number; amplitude: number; wavelength: number }
  | { kind: 'concentric'; period: number }
  | { kind: 'brick'; rowHeight: number; brickWidth: number; sharpness: number };

/**
 * A pattern and its phase: the pattern is laid out from the object's centre shifted by `offset`
 * (64-pixel units). The default styles' offsets were chosen so that no two patterns correlate much
 * on an object (see src/world/scripts/pattern-phases.ts).
 */
export type PatternSpec = PatternKind & { offset?: readonly [number, number] };

/** A style word ("<name> style"): the objects' surface pattern. */
export interface StyleWord {
  name: string;
  pattern: PatternSpec;
}

/** A palette word ("<name> palette"): background and secondary tones, all of one luminance. */
export interface PaletteWord {
  name: string;
  tones: readonly [Rgb, Rgb];
}

/**
 * A luminance field g(u, v) in [0, 1] over image fractions; the gain is low + (high - low) * g.
 * Variants (e.g. light from the left or from the right) are listed as directions or centres.
 */
export type LightingFieldSpec =
  | { kind: 'uniform' }
  | { kind: 'linear'; directions: readonly Point[] }
  | { kind: 'radial'; width: number; centres: readonly Point[] }
  | { kind: 'rim'; width: number };

/** A lighting phrase ("side lighting", "spotlight"): a multiplicative luminance field. */
export interface LightingWord {
  phrase: string;
  field: LightingFieldSpec;
  low: number;
  high: number;
}

/**
 * A layout rule ("<name> layout"): for 1, 2 and 3 objects, the alternative sets of slots (image
 * fractions, one per object) that follow the rule.
 */
export interface LayoutWord {
  name: string;
  slots: Readonly<Record<'1' | '2' | '3', readonly (readonly Point[])[]>>;
}

/** A detail level ("<name> detail"): edge blur (pixels at 64 px) and micro-texture amplitude. */
export interface DetailWord {
  name: string;
  blur: number;
  texture: number;
}

/** An aesthetic trigger phrase: asks a generator for quality in one dimension without naming a value. */
export interface TriggerWord {
  phrase: string;
  dimension: Dimension;
}

export interface Vocabulary {
  colors: ColorWord[];
  shapes: ShapeWord[];
  styles: StyleWord[];
  palettes: PaletteWord[];
  lightings: LightingWord[];
  layouts: LayoutWord[];
  details: DetailWord[];
  triggers: TriggerWord[];
  /** Luminance (0.299 R + 0.587 G + 0.114 B) that every palette tone has, before lighting. */
  backgroundLuminance: number;
  /** How dark a style pattern's dark parts are: albedo * (1 - depth * (1 - p)). */
  styleDepth: number;
  /** Object radius range (image fractions) by number of objects in the scene. */
  objectRadius: Readonly<Record<'1' | '2' | '3', readonly [number, number]>>;
}
