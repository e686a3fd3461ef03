// rules.ts: renaming state dicts between two layouts with data-driven tables. A table is a list of
// prefix rules (side A <-> side B, whole dot-separated segments, `{n}` matching a number), each
// with an optional inner table for the rest of the name (a resnet's in_layers.0 <-> norm1). The
// longest matching prefix wins; a name no rule matches is reported as unknown, never dropped
// silently; names the caller knows and does not want (EMA copies, schedule buffers) are reported as
// ignored. One inner rule may reshape: 1x1-conv weights (C, C, 1, 1) <-> linear weights (C, C).
import { TreeRewardError } from '../../native/errors.js';

export interface InnerRule {
  a: string;
  b: string;
  /** Other spellings of the B side accepted when reading B (older diffusers: query for to_q). */
  bAlt?: string[];
  /** 1x1 convolution weights on side A, linear weights on side B. */
  conv1x1?: boolean;
}

export interface NameRule {
  /** Side A prefix, whole segments; `{n}` matches a number and carries it to the other side. */
  a: string;
  b: string;
  bAlt?: string[];
  inner?: InnerRule[];
  /** With `inner`: a rest that no inner rule matches is unknown (else it is kept as it is). */
  strict?: boolean;
  /** A legacy spelling read in one direction only. */
  only?: 'aToB' | 'bToA';
}

export type Direction = 'aToB' | 'bToA';

/** Something with a shape that can be reshaped: a Tensor, or a plain stand-in in tests. */
export interface Reshapable<T> {
  readonly shape: number[];
  reshape(shape: number[]): T;
}

export interface Renamed<T> {
  map: Map<string, T>;
  /** Names no rule knows, in input order. */
  unknown: string[];
  /** Names a rule knows and leaves out on purpose. */
  ignored: string[];
}

interface Compiled {
  rule: NameRule;
  from: RegExp;
  to: string;
  length: number;
  inner: { from: string[]; to: string; conv1x1: boolean }[];
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(prefix: string): RegExp {
  return new RegExp(`^${prefix.split('{n}').map(escape).join('(\\d+)')}(?:\\.|$)`);
}

function fill(template: string, numbers: string[]): string {
  let i = 0;
  return template.replace(/\{n\}/g, () => numbers[i++]);
}

function segmentPrefix(name: string, prefix: string): boolean {
  return name === prefix || name.startsWith(prefix + '.');
}

export class NameTable {
  readonly #compiled: Record<Direction, Compiled[]>;
  readonly #ignore: Record<Direction, RegExp[]>;

  /** `ignore` lists patterns of names to leave out, per side they are read from. */
  constructor(readonly rules: NameRule[], ignore: { a?: RegExp[]; b?: RegExp[] } = {}) {
    const build = (dir: Direction): Compiled[] =>
      rules.filter((r) => !r.only || r.only === dir).flatMap((r) => {
        const sources = dir === 'aToB' ? [r.a] : [r.b, ...(r.bAlt ?? [])];
        const to = dir === 'aToB' ? r.b : r.a;
        const inner = (r.inner ?? []).map((x) => ({ from: dir === 'aToB' ? [x.a] : [x.b, ...(x.bAlt ?? [])], to: dir === 'aToB' ? x.b : x.a, conv1x1: !!x.conv1x1 }));
        return sources.map((s) => ({ rule: r, from: compile(s), to, length: s.length, inner }));
      });
    this.#compiled = { aToB: build('aToB'), bToA: build('bToA') };
    this.#ignore = { aToB: ignore.a ?? [], bToA: ignore.b ?? [] };
  }

  /** The other side's name for `name`, with the reshape it needs; 'ignored'; or null when unknown. */
  rename(name: string, dir: Direction): { name: string; reshape?: 'toLinear' | 'toConv' } | 'ignored' | null {
    if (this.#ignore[dir].some((re) => re.test(name))) return 'ignored';
    let best: { c: Compiled; m: RegExpExecArray } | null = null;
    for (const c of this.#compiled[dir]) {
      const m = c.from.exec(name);
      if (m && (!best || m[0].length > best.m[0].length)) best = { c, m };
    }
    if (!best) return null;
    const { c, m } = best;
    const head = fill(c.to, m.slice(1));
    const matched = m[0].endsWith('.') ? m[0].length - 1 : m[0].length;
    const rest = name.slice(matched + 1);
    if (!rest) return { name: head };
    if (c.inner.length === 0) return { name: `${head}.${rest}` };
    let hit: { from: string; to: string; conv1x1: boolean } | null = null;
    for (const x of c.inner) {
      for (const f of x.from) if (segmentPrefix(rest, f) && (!hit || f.length > hit.from.length)) hit = { from: f, to: x.to, conv1x1: x.conv1x1 };
    }
    if (!hit) return c.rule.strict ? null : { name: `${head}.${rest}` };
    const tail = rest.slice(hit.from.length);
    const out = `${head}.${hit.to}${tail}`;
    if (hit.conv1x1 && tail === '.weight') return { name: out, reshape: dir === 'aToB' ? 'toLinear' : 'toConv' };
    return { name: out };
  }

  /**
   * Renames every entry. Values pass through untouched (the same objects) except 1x1-conv weights,
   * which are reshaped (a new value). Two names that land on one name are an error.
   */
  apply<T extends Reshapable<T>>(entries: Map<string, T> | Record<string, T>, dir: Direction): Renamed<T> {
    const input = entries instanceof Map ? entries : new Map(Object.entries(entries));
    const out: Renamed<T> = { map: new Map(), unknown: [], ignored: [] };
    const from = new Map<string, string>();
    for (const [name, value] of input) {
      const r = this.rename(name, dir);
      if (r === null) {
        out.unknown.push(name);
        continue;
      }
      if (r === 'ignored') {
        out.ignored.push(name);
        continue;
      }
      const clash = from.get(r.name);
      if (clash !== undefined) throw new TreeRewardError('INVALID_ARGUMENT', `Expected distinct names after renaming but "${clash}" and "${name}" both become "${r.name}"`);
      from.set(r.name, name);
      out.map.set(r.name, r.reshape ? reshaped(value, r.reshape) : value);
    }
    return out;
  }
}

function reshaped<T extends Reshapable<T>>(value: T, how: 'toLinear' | 'toConv'): T {
  const s = value.shape;
  if (how === 'toLinear' && s.length === 4 && s[2] === 1 && s[3] === 1) return value.reshape([s[0], s[1]]);
  if (how === 'toConv' && s.length === 2) return value.reshape([s[0], s[1], 1, 1]);
  return value; // already in the target form
}

/** Throws when a renaming left names unknown (for callers that want strict loading). */
export function requireAllKnown(what: string, r: { unknown: string[] }): void {
  if (r.unknown.length === 0) return;
  const shown = r.unknown.slice(0, 10).map((n) => JSON.stringify(n)).join(', ');
  throw new TreeRewardError('INVALID_ARGUMENT', `Expected only names the ${what} table knows but found ${r.unknown.length} unknown: ${shown}${r.unknown.length > 10 ? ', ...' : ''}`);
}
