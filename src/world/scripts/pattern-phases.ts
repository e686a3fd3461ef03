// pattern-phases.ts: how the default styles' pattern offsets (vocabulary/data.ts) were chosen.
// Patterns are laid out from each object's centre, so two patterns bright at the centre look alike
// on a small object. This searches integer offsets (0..7 px at 64 px) per style, by coordinate
// descent, to minimise the largest positive correlation between any two styles' patterns on discs
// of radius 6 to 11 px (after the per-object quadratic fit the style judge applies), and prints them.
//   npx tsx src/world/scripts/pattern-phases.ts
import { patternValue, vocabulary } from '../vocabulary/index.js';
import type { PatternSpec } from '../vocabulary/index.js';

const RADII = [6, 7.5, 9, 11];

/** The pattern's log factor on a disc, its quadratic trend removed, unit norm. */
function discSignal(pattern: PatternSpec, radius: number, offset: [number, number]): number[] {
  const depth = vocabulary().styleDepth;
  const rows: number[][] = [];
  const values: number[] = [];
  const spec = { ...pattern, offset };
  for (let y = -Math.floor(radius); y <= radius; y++) {
    for (let x = -Math.floor(radius); x <= radius; x++) {
      if (x * x + y * y > radius * radius) continue;
      values.push(Math.log(1 - depth * (1 - patternValue(spec, x, y))));
      rows.push([1, x, y, x * x, x * y, y * y]);
    }
  }
  const basis: number[][] = [];
  for (let k = 0; k < 6; k++) {
    let u = rows.map((r) => r[k]!);
    for (const b of basis) {
      const d = u.reduce((s, x, i) => s + x * b[i]!, 0);
      u = u.map((x, i) => x - d * b[i]!);
    }
    const n = Math.hypot(...u);
    if (n > 1e-9) basis.push(u.map((x) => x / n));
  }
  let r = values;
  for (const b of basis) {
    const d = r.reduce((s, x, i) => s + x * b[i]!, 0);
    r = r.map((x, i) => x - d * b[i]!);
  }
  const n = Math.hypot(...r) || 1;
  return r.map((x) => x / n);
}

const styles = vocabulary().styles.filter((s) => s.pattern.kind !== 'flat');
const cache = new Map<string, number[]>();
const signal = (i: number, radius: number, o: [number, number]) => {
  const key = `${i}:${radius}:${o}`;
  let v = cache.get(key);
  if (!v) cache.set(key, (v = discSignal(styles[i]!.pattern, radius, o)));
  return v;
};
const correlation = (i: number, oi: [number, number], j: number, oj: [number, number]) =>
  Math.max(...RADII.map((r) => signal(i, r, oi).reduce((s, x, k) => s + x * signal(j, r, oj)[k]!, 0)));

const candidates: [number, number][] = [];
for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) candidates.push([a, b]);
const offsets: [number, number][] = styles.map(() => [0, 0]);
for (let sweep = 0; sweep < 3; sweep++) {
  styles.forEach((_, i) => {
    let best = offsets[i]!;
    let bestCost = Infinity;
    for (const c of candidates) {
      let cost = 0;
      let worst = 0;
      styles.forEach((__, j) => {
        if (j === i) return;
        const v = Math.max(0, correlation(i, c, j, offsets[j]!));
        cost += v * v;
        worst = Math.max(worst, v);
      });
      cost += 4 * worst * worst;
      if (cost < bestCost) (bestCost = cost), (best = c);
    }
    offsets[i] = best;
  });
}
let worst = 0;
styles.forEach((_, i) => styles.forEach((__, j) => j > i && (worst = Math.max(worst, correlation(i, offsets[i]!, j, offsets[j]!)))));
styles.forEach((s, i) => console.log(`${s.name.padEnd(13)} offset: [${offsets[i]!.join(', ')}]`));
console.log(`largest positive correlation between two styles: ${worst.toFixed(3)}`);
