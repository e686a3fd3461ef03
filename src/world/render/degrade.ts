// degrade.ts: the weaker models of the world. A severity in [0, 1] per dimension spoils a resolved
// scene in that dimension only, so a pair from a stronger and a weaker generator differs in the
// dimensions that were degraded:
//   content  one object's hue rotated (severity x 110 degrees); above 0.75 another object's shape swapped
//   style    the surface pattern fades (depth x (1 - severity))
//   color    the palette's tones washed toward grey and rotated in hue, their luminance kept
//   lighting exposure off (x exp(+-0.55 severity)) and a wrong lighting field mixed in
//   layout   objects jittered off their slots (up to 0.12 x severity of the image)
//   detail   edges blurred (+0.6 px x severity) and the micro-texture lost
import type { Dimension } from '../../api/interfaces.js';
import type { Rgb } from '../vocabulary/index.js';
import { lightingVariants, vocabulary } from '../vocabulary/index.js';
import { hue, luminance, saturation } from '../pixels/color-space.js';
import type { Rng } from '../random.js';
import type { RenderSpec } from './render-spec.js';

export type Severity = Partial<Record<Dimension, number>>;

/** RGB from HSV (h in degrees, s and v in [0, 1], output 0..255). */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const c = v * s;
  const hh = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const [r, g, b] = hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/** Rotates a color's hue by `degrees` and scales its saturation, keeping its luminance. */
export function shiftColor(c: Rgb, degrees: number, saturationScale = 1): Rgb {
  const max = Math.max(c[0], c[1], c[2]);
  const rotated = hsvToRgb(hue(c[0], c[1], c[2]) + degrees, Math.min(1, saturation(c[0], c[1], c[2]) * saturationScale), max / 255);
  const y0 = luminance(c[0], c[1], c[2]);
  const y1 = luminance(rotated[0], rotated[1], rotated[2]);
  const k = y1 > 0 ? y0 / y1 : 1;
  return [rotated[0] * k, rotated[1] * k, rotated[2] * k];
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** A degraded copy of `spec`; `rng` picks which object, which direction, which wrong lighting. */
export function degradeSpec(spec: RenderSpec, severity: Severity, rng: Rng): RenderSpec {
  const out: RenderSpec = {
    ...spec,
    objects: spec.objects.map((o) => ({ ...o })),
    lighting: spec.lighting.map((l) => ({ ...l })),
    tones: [spec.tones[0], spec.tones[1]],
  };
  const v = vocabulary();

  const content = clamp01(severity.content ?? 0);
  const contentRng = rng.fork('content');
  if (content > 0 && out.objects.length > 0) {
    const k = contentRng.int(0, out.objects.length);
    const o = out.objects[k]!;
    o.rgb = shiftColor(o.rgb, (contentRng.chance(0.5) ? 1 : -1) * 110 * content);
    if (content > 0.75 && out.objects.length > 1) {
      const other = out.objects[(k + 1 + contentRng.int(0, out.objects.length - 1)) % out.objects.length]!;
      other.shape = contentRng.pickOther(v.shapes.map((s) => s.name), other.shape);
    }
  }

  const style = clamp01(severity.style ?? 0);
  for (const o of out.objects) o.patternDepth *= 1 - style;

  const color = clamp01(severity.color ?? 0);
  const colorRng = rng.fork('color');
  if (color > 0) {
    const turn = (colorRng.chance(0.5) ? 1 : -1) * 70 * color;
    out.tones = [shiftColor(out.tones[0], turn, 1 - 0.8 * color), shiftColor(out.tones[1], turn, 1 - 0.8 * color)];
  }

  const lighting = clamp01(severity.lighting ?? 0);
  const lightRng = rng.fork('lighting');
  if (lighting > 0) {
    out.exposure *= Math.exp((lightRng.chance(0.5) ? 1 : -1) * 0.55 * lighting);
    const current = out.lighting[0]!.word.phrase;
    const wrong = lightRng.pick(v.lightings.filter((l) => l.phrase !== current));
    const weight = 0.6 * lighting;
    for (const l of out.lighting) l.weight *= 1 - weight;
    out.lighting.push({ word: wrong, variant: lightRng.int(0, lightingVariants(wrong.field)), weight });
  }

  const layout = clamp01(severity.layout ?? 0);
  const layoutRng = rng.fork('layout');
  if (layout > 0) {
    for (const o of out.objects) {
      const angle = layoutRng.float(0, 2 * Math.PI);
      const dist = 0.12 * layout * Math.sqrt(layoutRng.float(0.25, 1));
      o.x += dist * Math.cos(angle);
      o.y += dist * Math.sin(angle);
    }
  }

  const detail = clamp01(severity.detail ?? 0);
  out.blur += 0.6 * detail;
  out.texture *= 1 - detail;
  return out;
}
