// gradcheck.ts: the one helper that checks an op (tinygrad's helper_test_op): forward against a
// float64 reference, float32 against the same reference, and backward against central finite
// differences of L = sum(out * W) for fixed random W, all on tiny shapes in float64.
import { expect } from 'vitest';

import { noGrad, tensor, Tensor, tidy, type DType } from '../../src/index.js';
import { ND } from './nd.js';

export interface InputSpec {
  shape: number[];
  /** Uniform range of values. Defaults to [-2, 2]. */
  range?: [number, number];
  /** Keep |x| at least this far from 0 (for kinks: relu, abs, clamp bounds). */
  awayFrom?: number[];
  /** Differentiate with respect to this input. Defaults to true. */
  grad?: boolean;
}

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  run: (xs: Tensor[]) => Tensor;
  ref: (xs: ND[]) => ND;
  /** Relative tolerance of the float32 forward. Defaults to 1e-4. */
  tol32?: number;
  /** Skip the gradient check (ops without a gradient). */
  noGrad?: boolean;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeInput(spec: InputSpec, rnd: () => number): ND {
  const [lo, hi] = spec.range ?? [-2, 2];
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * rnd();
    for (const k of spec.awayFrom ?? []) if (Math.abs(v - k) < 0.05) v = k + (v >= k ? 0.05 : -0.05) + 0.01;
    data[i] = v;
  }
  return new ND(spec.shape, data);
}

function toTensor(x: ND, dtype: DType, requiresGrad = false): Tensor {
  return tensor(x.data, x.shape, { dtype, requiresGrad });
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (at >= 0) {
    expect.fail(`${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Forward in float64 and float32 against the reference. */
export function checkForward(c: OpCase, seed = 1): void {
  const rnd = mulberry32(seed);
  const xs = c.inputs.map((s) => makeInput(s, rnd));
  const want = c.ref(xs);
  tidy(() => {
    const out = c.run(xs.map((x) => toTensor(x, 'float64')));
    expect(out.shape, `${c.name}: shape`).toEqual(want.shape);
    expectClose(out.toArray(), want.data, 1e-9, 1e-10, `${c.name} float64 forward`);
  });
  // float32: the reference on the float32-rounded inputs.
  const xs32 = xs.map((x) => new ND(x.shape, Float32Array.from(x.data)));
  const want32 = c.ref(xs32);
  const tol = c.tol32 ?? 1e-4;
  tidy(() => {
    const out = c.run(xs32.map((x) => toTensor(x, 'float32')));
    expect(out.dtype).toBe('float32');
    expectClose(out.toArray(), want32.data, tol, tol, `${c.name} float32 forward`);
  });
}

/** Backward in float64 against central finite differences. */
export function checkBackward(c: OpCase, seed = 2, eps = 1e-6): void {
  const rnd = mulberry32(seed);
  const xs = c.inputs.map((s) => makeInput(s, rnd));
  const loss = (inputs: ND[], weights: Float64Array | null): { value: number; out: ND } =>
    tidy(() => {
      const out = noGrad(() => c.run(inputs.map((x) => toTensor(x, 'float64'))));
      const data = out.toArray();
      let v = 0;
      if (weights) for (let i = 0; i < data.length; i++) v += data[i] * weights[i];
      return { value: v, out: new ND(out.shape, data) };
    });
  const outShape = loss(xs, null).out;
  const wr = mulberry32(seed + 100);
  const weights = Float64Array.from({ length: outShape.size }, () => wr() * 2 - 1);

  tidy(() => {
    const ts = xs.map((x, i) => toTensor(x, 'float64', c.inputs[i].grad !== false));
    const out = c.run(ts);
    out.backward(tensor(weights, out.shape, { dtype: 'float64' }));
    xs.forEach((x, i) => {
      if (c.inputs[i].grad === false) return;
      const g = ts[i].grad;
      expect(g, `${c.name}: input ${i} got no gradient`).not.toBeNull();
      const analytic = g!.toArray();
      const numeric = new Float64Array(x.size);
      for (let j = 0; j < x.size; j++) {
        const plus = xs.map((y) => new ND(y.shape, y.data));
        const minus = xs.map((y) => new ND(y.shape, y.data));
        plus[i].data[j] += eps;
        minus[i].data[j] -= eps;
        numeric[j] = (loss(plus, weights).value - loss(minus, weights).value) / (2 * eps);
      }
      expectClose(analytic, numeric, 1e-5, 1e-6, `${c.name} gradient of input ${i}`);
    });
  });
}
