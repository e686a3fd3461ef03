// color-space.ts: the pixel quantities the world is built around. Luminance (Rec. 601 weights)
// carries lighting; HSV saturation and hue and the chromaticity (r, g, b) / (r + g + b) do not change
// when a pixel is multiplied by a gain, so they carry the colors whatever the lighting.
import type { Rgb } from '../vocabulary/types.js';

export function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** HSV saturation (max - min) / max, 0 for black. */
export function saturation(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  return max <= 0 ? 0 : (max - Math.min(r, g, b)) / max;
}

/** HSV hue in degrees [0, 360); 0 for greys. */
export function hue(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d <= 0) return 0;
  let h: number;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h *= 60;
  return h < 0 ? h + 360 : h;
}

/** Absolute difference of two hues in degrees, in [0, 180]. */
export function hueDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/**
 * Opponent chromaticity (two numbers) of a color: invariant to a gain on all three channels.
 * u = (r - g) / sum, v = (r + g - 2b) / (2 sum); grey is (0, 0).
 */
export function chroma(r: number, g: number, b: number): [number, number] {
  const s = r + g + b;
  if (s <= 0) return [0, 0];
  return [(r - g) / s, (r + g - 2 * b) / (2 * s)];
}

export function rgbHue(c: Rgb): number {
  return hue(c[0], c[1], c[2]);
}

export function rgbChroma(c: Rgb): [number, number] {
  return chroma(c[0], c[1], c[2]);
}
