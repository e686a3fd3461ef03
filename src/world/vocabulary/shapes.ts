// shapes.ts: a shape word's outline as a signed distance function in unit-radius coordinates
// (negative inside, y down), shifted so the shape's area centroid is at the origin: an object's
// position is where its mass is. Also the outline's area, for matching a blob's size to a shape.
import type { ShapeSpec } from './types.js';
import { shapeWord, vocabularyVersion } from './registry.js';

export type Sdf = (x: number, y: number) => number;

export interface ShapeGeometry {
  /** Signed distance in unit-radius coordinates, centroid at the origin. */
  sdf: Sdf;
  /** Area inside the outline at radius 1. */
  area: number;
}

function sdCircle(x: number, y: number, r: number): number {
  return Math.hypot(x, y) - r;
}

function sdBox(x: number, y: number, hw: number, hh: number): number {
  const dx = Math.abs(x) - hw;
  const dy = Math.abs(y) - hh;
  const ox = Math.max(dx, 0);
  const oy = Math.max(dy, 0);
  return Math.hypot(ox, oy) + Math.min(Math.max(dx, dy), 0);
}

/** Exact signed distance to a simple polygon (vertex lists xs, ys). */
function sdPolygon(x: number, y: number, xs: Float64Array, ys: Float64Array): number {
  const n = xs.length;
  let d = (x - xs[0]!) ** 2 + (y - ys[0]!) ** 2;
  let s = 1;
  for (let i = 0, j = n - 1; i < n; j = i, i++) {
    const ex = xs[j]! - xs[i]!;
    const ey = ys[j]! - ys[i]!;
    const wx = x - xs[i]!;
    const wy = y - ys[i]!;
    const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const bx = wx - ex * t;
    const by = wy - ey * t;
    d = Math.min(d, bx * bx + by * by);
    const c1 = y >= ys[i]!;
    const c2 = y < ys[j]!;
    const c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
  }
  return s * Math.sqrt(d);
}

function polygonSdf(points: readonly (readonly [number, number])[]): Sdf {
  const xs = Float64Array.from(points, (p) => p[0]);
  const ys = Float64Array.from(points, (p) => p[1]);
  return (x, y) => sdPolygon(x, y, xs, ys);
}

function regularPoints(sides: number, radius: number, rotationDeg: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < sides; i++) {
    const a = ((rotationDeg - 90 + (360 * i) / sides) * Math.PI) / 180;
    out.push([radius * Math.cos(a), radius * Math.sin(a)]);
  }
  return out;
}

function starPoints(points: number, outer: number, inner: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < 2 * points; i++) {
    const a = -Math.PI / 2 + (Math.PI * i) / points;
    const r = i % 2 === 0 ? outer : inner;
    out.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return out;
}

/** The classic parametric heart, 48 vertices, point down, scaled to half-height `size`. */
function heartPoints(size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < 48; i++) {
    const t = (2 * Math.PI * i) / 48;
    const x = 16 * Math.sin(t) ** 3;
    const y = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t));
    out.push([(x / 16) * size, ((y + 2.5) / 14.5) * size]);
  }
  return out;
}

function rawSdf(spec: ShapeSpec): Sdf {
  switch (spec.kind) {
    case 'circle':
      return (x, y) => sdCircle(x, y, spec.radius);
    case 'ring': {
      const mid = (spec.outer + spec.inner) / 2;
      const half = (spec.outer - spec.inner) / 2;
      return (x, y) => Math.abs(Math.hypot(x, y) - mid) - half;
    }
    case 'box':
      return (x, y) => sdBox(x, y, spec.halfWidth, spec.halfHeight);
    case 'plus':
      return (x, y) => Math.min(sdBox(x, y, spec.arm, spec.thickness), sdBox(x, y, spec.thickness, spec.arm));
    case 'regular':
      return polygonSdf(regularPoints(spec.sides, spec.radius, spec.rotationDeg));
    case 'star':
      return polygonSdf(starPoints(spec.points, spec.outer, spec.inner));
    case 'polygon':
      return polygonSdf(spec.points);
    case 'heart':
      return polygonSdf(heartPoints(spec.size));
  }
}

/** Area and centroid of {sdf < 0} on a fine grid over [-1.5, 1.5]^2. */
function measure(sdf: Sdf): { area: number; cx: number; cy: number } {
  const n = 300;
  const step = 3 / n;
  let count = 0;
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < n; j++) {
    const y = -1.5 + (j + 0.5) * step;
    for (let i = 0; i < n; i++) {
      const x = -1.5 + (i + 0.5) * step;
      if (sdf(x, y) < 0) {
        count++;
        sx += x;
        sy += y;
      }
    }
  }
  return { area: count * step * step, cx: sx / count, cy: sy / count };
}

const cache = new Map<string, ShapeGeometry>();
let cacheVersion = -1;

/** The centred outline and area of a shape word. */
export function shapeGeometry(name: string): ShapeGeometry {
  if (cacheVersion !== vocabularyVersion()) {
    cache.clear();
    cacheVersion = vocabularyVersion();
  }
  let g = cache.get(name);
  if (!g) {
    const raw = rawSdf(shapeWord(name).shape);
    const m = measure(raw);
    g = { sdf: (x, y) => raw(x + m.cx, y + m.cy), area: m.area };
    cache.set(name, g);
  }
  return g;
}
