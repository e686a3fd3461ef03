// nd.ts: a tiny float64 n-d array for reference implementations in tests: plain loops, no cleverness.

export class ND {
  readonly shape: number[];
  readonly data: Float64Array;
  constructor(shape: number[], data?: ArrayLike<number>) {
    this.shape = [...shape];
    const n = shape.reduce((a, b) => a * b, 1);
    this.data = data ? Float64Array.from(data) : new Float64Array(n);
    if (this.data.length !== n) throw new Error(`ND: ${this.data.length} values for shape [${shape}]`);
  }
  get size(): number {
    return this.data.length;
  }
  get strides(): number[] {
    const s = new Array(this.shape.length).fill(1);
    for (let i = this.shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * this.shape[i + 1];
    return s;
  }
  index(idx: number[]): number {
    const st = this.strides;
    let o = 0;
    for (let i = 0; i < idx.length; i++) o += idx[i] * st[i];
    return o;
  }
  get(...idx: number[]): number {
    return this.data[this.index(idx)];
  }
  set(v: number, ...idx: number[]): void {
    this.data[this.index(idx)] = v;
  }
  /** Multi-index of flat position i. */
  unravel(i: number): number[] {
    const out = new Array(this.shape.length);
    for (let d = this.shape.length - 1; d >= 0; d--) {
      out[d] = i % this.shape[d];
      i = Math.floor(i / this.shape[d]);
    }
    return out;
  }
  map(f: (v: number, i: number) => number): ND {
    return new ND(this.shape, Array.from(this.data, f));
  }
}

export function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    return da === 1 ? db : da;
  });
}

/** Element of `t` at output multi-index `idx` under broadcasting. */
export function bget(t: ND, idx: number[]): number {
  const off = idx.length - t.shape.length;
  const own = t.shape.map((d, i) => (d === 1 ? 0 : idx[i + off]));
  return t.data[t.index(own)];
}

export function zip(a: ND, b: ND, f: (x: number, y: number) => number): ND {
  const shape = broadcastShape(a.shape, b.shape);
  const out = new ND(shape);
  for (let i = 0; i < out.size; i++) {
    const idx = out.unravel(i);
    out.data[i] = f(bget(a, idx), bget(b, idx));
  }
  return out;
}
