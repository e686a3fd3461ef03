// lighting-fields.ts: a lighting word's multiplicative luminance gain at image fraction (u, v):
// low + (high - low) * g(u, v), g in [0, 1]. `variant` picks the direction or centre where the
// word has several (side lighting from the left or the right).
import type { LightingFieldSpec, LightingWord } from './types.js';

export function lightingVariants(field: LightingFieldSpec): number {
  switch (field.kind) {
    case 'linear':
      return field.directions.length;
    case 'radial':
      return field.centres.length;
    default:
      return 1;
  }
}

/** g(u, v) in [0, 1]. */
export function fieldShape(field: LightingFieldSpec, variant: number, u: number, v: number): number {
  switch (field.kind) {
    case 'uniform':
      return 1;
    case 'linear': {
      const [dx, dy] = field.directions[variant % field.directions.length]!;
      // Projection on the direction, mapped so the lit side is 1 and the far side 0.
      const t = (u - 0.5) * dx + (v - 0.5) * dy;
      const span = (Math.abs(dx) + Math.abs(dy)) / 2;
      return Math.min(1, Math.max(0, 0.5 + t / (2 * span)));
    }
    case 'radial': {
      const [cx, cy] = field.centres[variant % field.centres.length]!;
      const r2 = (u - cx) ** 2 + (v - cy) ** 2;
      return Math.exp(-r2 / (2 * field.width * field.width));
    }
    case 'rim': {
      const r2 = (u - 0.5) ** 2 + (v - 0.5) ** 2;
      return 1 - Math.exp(-r2 / (2 * field.width * field.width));
    }
  }
}

export function lightingGain(word: LightingWord, variant: number, u: number, v: number): number {
  return word.low + (word.high - word.low) * fieldShape(word.field, variant, u, v);
}
