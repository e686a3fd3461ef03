// patterns.ts: a style word's surface pattern p(x, y) in [0, 1] (1 = light), with x, y in
// 64-pixel units relative to the object's centre. All patterns are smooth (no hard edges), with
// periods of 6 to 12 pixels: the low-frequency band, between lighting (the whole image) and detail
// (single pixels).
import type { PatternSpec } from './types.js';

const TAU = 2 * Math.PI;

/** A smooth periodic line profile: 1 on the line, falling to 0 between lines; sharper with k. */
function line(t: number, period: number, k: number): number {
  return ((1 + Math.cos((TAU * t) / period)) / 2) ** k;
}

function wave(t: number, period: number): number {
  return 0.5 + 0.5 * Math.cos((TAU * t) / period);
}

/** Triangle wave in [-1, 1] with the given wavelength. */
function triangle(t: number, wavelength: number): number {
  const f = t / wavelength - Math.floor(t / wavelength);
  return 4 * Math.abs(f - 0.5) - 1;
}

export function patternValue(spec: PatternSpec, x0: number, y0: number): number {
  const x = x0 + (spec.offset?.[0] ?? 0);
  const y = y0 + (spec.offset?.[1] ?? 0);
  switch (spec.kind) {
    case 'flat':
      return 1;
    case 'stripes': {
      const a = (spec.angleDeg * Math.PI) / 180;
      return wave(x * Math.cos(a) + y * Math.sin(a), spec.period);
    }
    case 'crosshatch': {
      const u = (x + y) * Math.SQRT1_2;
      const v = (x - y) * Math.SQRT1_2;
      return 1 - Math.max(line(u, spec.period, spec.sharpness), line(v, spec.period, spec.sharpness));
    }
    case 'checker':
      return 0.5 + 0.5 * Math.tanh(3 * Math.cos((Math.PI * x) / spec.cell) * Math.cos((Math.PI * y) / spec.cell));
    case 'dots': {
      const dx = x - spec.period * Math.round(x / spec.period);
      const dy = y - spec.period * Math.round(y / spec.period);
      return Math.exp(-(dx * dx + dy * dy) / (2 * spec.radius * spec.radius));
    }
    case 'grid':
      return 1 - Math.max(line(x, spec.period, spec.sharpness), line(y, spec.period, spec.sharpness));
    case 'wavy':
      return wave(y + spec.amplitude * Math.sin((TAU * x) / spec.wavelength), spec.period);
    case 'zigzag':
      return wave(x + spec.amplitude * triangle(y, spec.wavelength), spec.period);
    case 'concentric':
      return wave(Math.hypot(x, y), spec.period);
    case 'brick': {
      const row = Math.floor(y / spec.rowHeight);
      const offset = row % 2 === 0 ? 0 : spec.brickWidth / 2;
      const h = line(y, spec.rowHeight, spec.sharpness);
      const v = line(x + offset, spec.brickWidth, spec.sharpness);
      return 1 - Math.max(h, v);
    }
  }
}
