// reference.ts: plain float64 loops, the oracle every op is checked against. Written from the
// definitions (PyTorch's documented semantics), never from our kernels.
import { bget, broadcastShape, ND } from './nd.js';

export const erf = (x: number): number => {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-10 checks: use a series / continued fraction.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t, term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
};

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const geluExact = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Reduce over axes (all when empty) with f(values) -> value. */
export function reduce(a: ND, axes: number[], keepdim: boolean, f: (vals: number[]) => number): ND {
  const r = a.shape.length;
  const red = new Set(axes.length ? axes.map((x) => (x < 0 ? x + r : x)) : a.shape.map((_, i) => i));
  const keepShape = a.shape.map((d, i) => (red.has(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const ko = new ND(keepShape);
  for (let i = 0; i < a.size; i++) {
    const idx = a.unravel(i).map((v, d) => (red.has(d) ? 0 : v));
    const k = ko.index(idx);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(a.data[i]);
  }
  for (const [k, vals] of groups) ko.data[k] = f(vals);
  return keepdim ? ko : new ND(a.shape.filter((_, i) => !red.has(i)), ko.data);
}

export function softmax(a: ND, dim: number, log = false): ND {
  const r = a.shape.length, d = dim < 0 ? dim + r : dim;
  const out = new ND(a.shape);
  for (let i = 0; i < a.size; i++) {
    const idx = a.unravel(i);
    let m = -Infinity;
    for (let j = 0; j < a.shape[d]; j++) m = Math.max(m, a.get(...idx.map((v, k) => (k === d ? j : v))));
    let s = 0;
    for (let j = 0; j < a.shape[d]; j++) s += Math.exp(a.get(...idx.map((v, k) => (k === d ? j : v))) - m);
    out.data[i] = log ? a.data[i] - m - Math.log(s) : Math.exp(a.data[i] - m) / s;
  }
  return out;
}

export function matmul(a: ND, b: ND): ND {
  const M = a.shape[a.shape.length - 2], K = a.shape[a.shape.length - 1], N = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = new ND([...batch, M, N]);
  for (let i = 0; i < out.size; i++) {
    const idx = out.unravel(i);
    const bi = idx.slice(0, -2), m = idx[idx.length - 2], n = idx[idx.length - 1];
    let s = 0;
    for (let k = 0; k < K; k++) s += bget(a, [...bi, m, k]) * bget(b, [...bi, k, n]);
    out.data[i] = s;
  }
  return out;
}

export function transposeLast(a: ND): ND {
  const r = a.shape.length;
  const shape = [...a.shape];
  [shape[r - 2], shape[r - 1]] = [shape[r - 1], shape[r - 2]];
  const out = new ND(shape);
  for (let i = 0; i < out.size; i++) {
    const idx = out.unravel(i);
    [idx[r - 2], idx[r - 1]] = [idx[r - 1], idx[r - 2]];
    out.data[i] = a.get(...idx);
  }
  return out;
}

export function linear(x: ND, w: ND, b?: ND): ND {
  const y = matmul(x, transposeLast(w));
  return b ? y.map((v, i) => v + b.data[i % b.size]) : y;
}

export function layerNorm(x: ND, k: number, w?: ND, b?: ND, eps = 1e-5): ND {
  const cols = x.shape.slice(-k).reduce((p, q) => p * q, 1);
  const out = new ND(x.shape);
  for (let r = 0; r < x.size / cols; r++) {
    const row = x.data.slice(r * cols, (r + 1) * cols);
    const mu = row.reduce((p, q) => p + q, 0) / cols;
    const v = row.reduce((p, q) => p + (q - mu) ** 2, 0) / cols;
    for (let j = 0; j < cols; j++) out.data[r * cols + j] = ((row[j] - mu) / Math.sqrt(v + eps)) * (w ? w.data[j] : 1) + (b ? b.data[j] : 0);
  }
  return out;
}

export function groupNorm(x: ND, G: number, w?: ND, b?: ND, eps = 1e-5): ND {
  const [N, C] = x.shape;
  const S = x.size / (N * C), per = (C / G) * S;
  const out = new ND(x.shape);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const base = n * C * S + g * per;
      const vals = x.data.slice(base, base + per);
      const mu = vals.reduce((p, q) => p + q, 0) / per;
      const v = vals.reduce((p, q) => p + (q - mu) ** 2, 0) / per;
      for (let j = 0; j < per; j++) {
        const c = g * (C / G) + Math.floor(j / S);
        out.data[base + j] = ((vals[j] - mu) / Math.sqrt(v + eps)) * (w ? w.data[c] : 1) + (b ? b.data[c] : 0);
      }
    }
  return out;
}

export function conv2d(x: ND, w: ND, b: ND | undefined, stride: [number, number], pad: [number, number], groups: number): ND {
  const [N, Cin, H, W] = x.shape;
  const [Cout, Cg, kh, kw] = w.shape;
  const Ho = Math.floor((H + 2 * pad[0] - kh) / stride[0]) + 1, Wo = Math.floor((W + 2 * pad[1] - kw) / stride[1]) + 1;
  const out = new ND([N, Cout, Ho, Wo]);
  const coutPerG = Cout / groups;
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / coutPerG);
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++) {
          let s = b ? b.data[co] : 0;
          for (let ci = 0; ci < Cg; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * stride[0] - pad[0] + ky, ix = ox * stride[1] - pad[1] + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += x.get(n, g * Cg + ci, iy, ix) * w.get(co, ci, ky, kx);
              }
          out.set(s, n, co, oy, ox);
        }
    }
  void Cin;
  return out;
}

export function upsample2x(x: ND): ND {
  const [N, C, H, W] = x.shape;
  const out = new ND([N, C, 2 * H, 2 * W]);
  for (let i = 0; i < out.size; i++) {
    const [n, c, y, xx] = out.unravel(i);
    out.data[i] = x.get(n, c, Math.floor(y / 2), Math.floor(xx / 2));
  }
  return out;
}

export function avgPool(x: ND, k: number, s: number): ND {
  const [N, C, H, W] = x.shape;
  const Ho = Math.floor((H - k) / s) + 1, Wo = Math.floor((W - k) / s) + 1;
  const out = new ND([N, C, Ho, Wo]);
  for (let i = 0; i < out.size; i++) {
    const [n, c, oy, ox] = out.unravel(i);
    let t = 0;
    for (let a = 0; a < k; a++) for (let bb = 0; bb < k; bb++) t += x.get(n, c, oy * s + a, ox * s + bb);
    out.data[i] = t / (k * k);
  }
  return out;
}

export function permute(x: ND, dims: number[]): ND {
  const out = new ND(dims.map((d) => x.shape[d]));
  for (let i = 0; i < out.size; i++) {
    const idx = out.unravel(i);
    const src = new Array(dims.length);
    dims.forEach((d, k) => (src[d] = idx[k]));
    out.data[i] = x.get(...src);
  }
  return out;
}

export function sliceRef(x: ND, dim: number, start: number, end: number, step: number): ND {
  const shape = [...x.shape];
  shape[dim] = Math.ceil((end - start) / step);
  const out = new ND(shape);
  for (let i = 0; i < out.size; i++) {
    const idx = out.unravel(i);
    idx[dim] = start + idx[dim] * step;
    out.data[i] = x.get(...idx);
  }
  return out;
}

export function concatRef(xs: ND[], dim: number): ND {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((p, x) => p + x.shape[dim], 0);
  const out = new ND(shape);
  let at = 0;
  for (const x of xs) {
    for (let i = 0; i < x.size; i++) {
      const idx = x.unravel(i);
      idx[dim] += at;
      out.set(x.data[i], ...idx);
    }
    at += x.shape[dim];
  }
  return out;
}

export function attention(q: ND, k: ND, v: ND, mask: ND | undefined, scale: number): ND {
  let s = matmul(q, transposeLast(k)).map((x) => x * scale);
  if (mask) {
    const shape = broadcastShape(s.shape, mask.shape);
    const t = new ND(shape);
    for (let i = 0; i < t.size; i++) {
      const idx = t.unravel(i);
      t.data[i] = bget(s, idx) + bget(mask, idx);
    }
    s = t;
  }
  return matmul(softmax(s, -1), v);
}

export function crossEntropy(logits: ND, targets: number[], ignore: number): number {
  const ls = softmax(logits, -1, true);
  let s = 0, n = 0;
  targets.forEach((t, i) => {
    if (t === ignore) return;
    s -= ls.get(i, t);
    n++;
  });
  return n ? s / n : 0;
}
