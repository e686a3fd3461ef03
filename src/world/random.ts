// random.ts: the world's seeded randomness, written in TypeScript so it is identical on every
// machine: a mulberry32 stream, string/number seed mixing (so each scene attribute draws from its
// own sub-stream and changing one attribute never shifts another's draws), and a per-pixel hash.

/** FNV-1a hash of a string to an unsigned 32-bit integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 finaliser: a well-mixed unsigned 32-bit integer from any 32-bit input. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed derived from a parent seed and a key: independent streams for independent attributes. */
export function deriveSeed(seed: number, key: string | number): number {
  const k = typeof key === 'number' ? mix32(key) : hashString(key);
  return mix32((seed >>> 0) ^ Math.imul(k, 0x27d4eb2d));
}

/** Hash of (seed, x, y) to a float in [-1, 1): the micro-texture noise, one value per pixel. */
export function pixelNoise(seed: number, x: number, y: number): number {
  const h = mix32((seed ^ Math.imul(x, 0x1f1f1f1f) ^ Math.imul(y + 0x3c6ef372, 0x5bd1e995)) >>> 0);
  return h / 2147483648 - 1;
}

/** A deterministic random stream (mulberry32) with the draws the world needs. */
export class Rng {
  private state: number;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Expected a finite number for seed but received ${seed}`);
    this.seed = seed >>> 0;
    this.state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo) * this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Expected a non-empty list for pick but received []');
    return items[this.int(0, items.length)]!;
  }

  /** Picks an element other than `not` (items must hold at least one such element). */
  pickOther<T>(items: readonly T[], not: T): T {
    const rest = items.filter((x) => x !== not);
    return this.pick(rest);
  }

  /** Picks by non-negative weights. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i]!;
      if (r < 0) return items[i]!;
    }
    return items[items.length - 1]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A new independent stream for `key`, not advancing this one. */
  fork(key: string | number): Rng {
    return new Rng(deriveSeed(this.seed, key));
  }
}
