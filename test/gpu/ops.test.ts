// ops.test.ts: every op of the CUDA backend against the CPU path on the same seeded inputs, forward
// and backward (L = sum(out * W) for a fixed random W), in float32, float64, bfloat16 and float16.
// One row per case: adding an op to the backend is adding a row. Skipped where no GPU is visible.
import { describe, expect, it } from 'vitest';

import { F, hasCuda, tensor, tidy, type DType, type Tensor } from '../../src/index.js';
import { native } from '../../src/native/addon.js';
import { expectClose, makeInput, mulberry32, type InputSpec } from '../helpers/gradcheck.js';

type Device = 'cpu' | 'cuda';

interface GpuCase {
  name: string;
  inputs: InputSpec[];
  /** xs are on `dev` (leaves that require grad unless their spec says grad: false). */
  run: (xs: Tensor[], dev: Device) => Tensor;
  /** Dtypes to run. Defaults to all four float dtypes. */
  dtypes?: DType[];
  /** Extra relative tolerance for bf16/f16 (ops that amplify rounding, e.g. reductions of many terms). */
  lowpTol?: number;
}

const idx = (values: number[], dev: Device): Tensor => tensor(Int32Array.from(values), [values.length], { dtype: 'int32', device: dev });

const GPU_CASES: GpuCase[] = [
  // elementwise, with broadcasting and strided views
  { name: 'add broadcast', inputs: [{ shape: [4, 1, 33] }, { shape: [5, 33] }], run: ([a, b]) => a.add(b) },
  { name: 'add row bias', inputs: [{ shape: [64, 48] }, { shape: [48] }], run: ([a, b]) => a.add(b) },
  { name: 'sub broadcast', inputs: [{ shape: [2, 1, 3] }, { shape: [4, 1] }], run: ([a, b]) => a.sub(b) },
  { name: 'mul transposed view', inputs: [{ shape: [6, 7] }, { shape: [7, 6] }], run: ([a, b]) => a.mul(b.transpose(0, 1)) },
  { name: 'div', inputs: [{ shape: [3, 50] }, { shape: [3, 1], range: [0.5, 2] }], run: ([a, b]) => a.div(b) },
  { name: 'pow', inputs: [{ shape: [40], range: [0.5, 2] }, { shape: [40], range: [-1.5, 1.5] }], run: ([a, b]) => a.pow(b) },
  { name: 'add scalar', inputs: [{ shape: [300] }], run: ([a]) => a.add(1.5) },
  { name: 'mul scalar', inputs: [{ shape: [300] }], run: ([a]) => a.mul(-3) },
  { name: 'pow scalar', inputs: [{ shape: [60], range: [0.2, 2] }], run: ([a]) => a.pow(2.5) },
  { name: 'square', inputs: [{ shape: [60] }], run: ([a]) => a.pow(2) },
  { name: 'rdiv scalar', inputs: [{ shape: [50], range: [0.5, 2] }], run: ([a]) => a.rdiv(3) },
  // unary and activations
  { name: 'neg', inputs: [{ shape: [2, 30] }], run: ([a]) => a.neg() },
  { name: 'exp', inputs: [{ shape: [2, 30] }], run: ([a]) => a.exp() },
  { name: 'log', inputs: [{ shape: [2, 30], range: [0.1, 3] }], run: ([a]) => a.log() },
  { name: 'sqrt', inputs: [{ shape: [2, 30], range: [0.1, 3] }], run: ([a]) => a.sqrt() },
  { name: 'abs', inputs: [{ shape: [70], awayFrom: [0] }], run: ([a]) => a.abs() },
  { name: 'tanh', inputs: [{ shape: [2, 30] }], run: ([a]) => a.tanh() },
  { name: 'sigmoid', inputs: [{ shape: [2, 30], range: [-6, 6] }], run: ([a]) => a.sigmoid() },
  { name: 'logSigmoid', inputs: [{ shape: [2, 30], range: [-20, 20] }], run: ([a]) => a.logSigmoid() },
  { name: 'relu', inputs: [{ shape: [80], awayFrom: [0] }], run: ([a]) => a.relu() },
  { name: 'gelu exact', inputs: [{ shape: [80], range: [-4, 4] }], run: ([a]) => a.gelu() },
  { name: 'gelu tanh', inputs: [{ shape: [80], range: [-4, 4] }], run: ([a]) => a.gelu({ approximate: 'tanh' }) },
  { name: 'silu', inputs: [{ shape: [80], range: [-5, 5] }], run: ([a]) => a.silu() },
  { name: 'geglu', inputs: [{ shape: [3, 2, 40] }], run: ([a]) => a.geglu() },
  { name: 'clamp', inputs: [{ shape: [90], awayFrom: [-0.5, 0.7] }], run: ([a]) => a.clamp(-0.5, 0.7) },
  { name: 'unary of a permuted view', inputs: [{ shape: [3, 4, 5] }], run: ([a]) => a.permute(2, 0, 1).exp() },
  // reductions
  { name: 'sum all', inputs: [{ shape: [2, 3, 40] }], run: ([a]) => a.sum(), lowpTol: 2e-2 },
  { name: 'sum leading axis (bias gradient shape)', inputs: [{ shape: [300, 20] }], run: ([a]) => a.sum(0), lowpTol: 2e-2 },
  { name: 'sum middle axes keepdim', inputs: [{ shape: [2, 3, 4, 5] }], run: ([a]) => a.sum([1, 3], true) },
  { name: 'sum long rows', inputs: [{ shape: [3, 5000] }], run: ([a]) => a.sum(-1), lowpTol: 5e-2 },
  // A whole-tensor sum of 100,000 values: split over 25 blocks, their partials added by a second kernel.
  { name: 'sum all, split over blocks', inputs: [{ shape: [100, 1000] }], run: ([a]) => a.sum(), lowpTol: 5e-2 },
  { name: 'mean all of a transposed view', inputs: [{ shape: [90, 110] }], run: ([a]) => a.transpose(0, 1).mean() },
  { name: 'mean axis', inputs: [{ shape: [3, 50] }], run: ([a]) => a.mean(1) },
  { name: 'max axis', inputs: [{ shape: [7, 300] }], run: ([a]) => a.max(-1) },
  { name: 'max leading axis', inputs: [{ shape: [5, 4, 3] }], run: ([a]) => a.max(0) },
  { name: 'softmax last', inputs: [{ shape: [3, 50] }], run: ([a]) => a.softmax(-1) },
  { name: 'softmax long rows', inputs: [{ shape: [4, 1500] }], run: ([a]) => a.softmax(-1) },
  { name: 'softmax middle', inputs: [{ shape: [2, 40, 3] }], run: ([a]) => a.softmax(1) },
  { name: 'logSoftmax', inputs: [{ shape: [3, 50], range: [-5, 5] }], run: ([a]) => a.logSoftmax(-1) },
  { name: 'logSoftmax middle', inputs: [{ shape: [2, 30, 5], range: [-5, 5] }], run: ([a]) => a.logSoftmax(1) },
  // products
  { name: 'matmul 2d tiles', inputs: [{ shape: [37, 70] }, { shape: [70, 45] }], run: ([a, b]) => a.matmul(b), lowpTol: 3e-2 },
  { name: 'matmul batched broadcast', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], run: ([a, b]) => a.matmul(b) },
  { name: 'matmul partial broadcast', inputs: [{ shape: [2, 3, 5, 4] }, { shape: [2, 1, 4, 6] }], run: ([a, b]) => a.matmul(b) },
  { name: 'matmul transposed views', inputs: [{ shape: [2, 9, 17] }, { shape: [2, 11, 9] }], run: ([a, b]) => a.transpose(-1, -2).matmul(b.transpose(-1, -2)) },
  { name: 'matmul vector', inputs: [{ shape: [13, 20] }, { shape: [20] }], run: ([a, b]) => a.matmul(b) },
  { name: 'linear', inputs: [{ shape: [2, 30, 40] }, { shape: [50, 40] }, { shape: [50] }], run: ([x, w, b]) => F.linear(x, w, b), lowpTol: 3e-2 },
  { name: 'linear no bias', inputs: [{ shape: [3, 4] }, { shape: [2, 4] }], run: ([x, w]) => F.linear(x, w) },
  // normalisation
  { name: 'layerNorm', inputs: [{ shape: [3, 60] }, { shape: [60] }, { shape: [60] }], run: ([x, w, b]) => F.layerNorm(x, [60], w, b) },
  { name: 'layerNorm wide rows, 2 dims, no affine', inputs: [{ shape: [5, 3, 400] }], run: ([x]) => F.layerNorm(x, [3, 400]), lowpTol: 3e-2 },
  { name: 'layerNorm many rows', inputs: [{ shape: [200, 8] }, { shape: [8] }, { shape: [8] }], run: ([x, w, b]) => F.layerNorm(x, [8], w, b), lowpTol: 3e-2 },
  { name: 'groupNorm', inputs: [{ shape: [2, 4, 3, 3] }, { shape: [4] }, { shape: [4] }], run: ([x, w, b]) => F.groupNorm(x, 2, w, b) },
  { name: 'groupNorm no affine', inputs: [{ shape: [2, 6, 5] }], run: ([x]) => F.groupNorm(x, 3) },
  { name: 'groupNorm large groups', inputs: [{ shape: [1, 4, 64, 40] }, { shape: [4] }, { shape: [4] }], run: ([x, w, b]) => F.groupNorm(x, 2, w, b), lowpTol: 5e-2 },
  { name: 'groupNormSilu', inputs: [{ shape: [2, 8, 4, 4] }, { shape: [8] }, { shape: [8] }], run: ([x, w, b]) => F.groupNormSilu(x, 4, w, b) },
  // images
  { name: 'upsampleNearest2x', inputs: [{ shape: [2, 3, 5, 7] }], run: ([x]) => F.upsampleNearest2x(x) },
  { name: 'avgPool2d', inputs: [{ shape: [1, 2, 8, 9] }], run: ([x]) => F.avgPool2d(x, 2) },
  { name: 'avgPool2d overlapping', inputs: [{ shape: [2, 2, 7, 7] }], run: ([x]) => F.avgPool2d(x, 3, 2) },
  // shape
  { name: 'reshape', inputs: [{ shape: [2, 6] }], run: ([a]) => a.reshape(3, -1).mul(2) },
  { name: 'permute contiguous', inputs: [{ shape: [2, 3, 4] }], run: ([a]) => a.permute(2, 0, 1).contiguous() },
  { name: 'transpose then reshape', inputs: [{ shape: [3, 4] }], run: ([a]) => a.transpose(0, 1).reshape(-1) },
  { name: 'slice step', inputs: [{ shape: [3, 17] }], run: ([a]) => a.slice(1, 1, 16, 3).mul(1) },
  { name: 'expand', inputs: [{ shape: [3, 1] }], run: ([a]) => a.expand(2, 3, 4).mul(1) },
  { name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [2, 5] }], run: ([a, b]) => F.concat([a, b], 1) },
  { name: 'cast to float64 and back', inputs: [{ shape: [20] }], run: ([a]) => a.to('float64').mul(3).to(a.dtype) },
  // lookup and losses
  { name: 'embedding', inputs: [{ shape: [5, 3] }], run: ([w], dev) => F.embedding(w, idx([4, 0, 4, 2], dev)) },
  { name: 'crossEntropy', inputs: [{ shape: [4, 30] }], run: ([l], dev) => F.crossEntropy(l, idx([2, 0, -100, 29], dev)) },
  { name: 'mseLoss', inputs: [{ shape: [2, 30] }, { shape: [2, 30] }], run: ([a, b]) => F.mseLoss(a, b) },
  { name: 'attention (plain composition)', inputs: [{ shape: [1, 2, 6, 8] }, { shape: [1, 2, 5, 8] }, { shape: [1, 2, 5, 8] }], run: ([q, k, v]) => F.attention(q, k, v, { impl: 'plain' }) },
];

const ALL: DType[] = ['float32', 'float64', 'bfloat16', 'float16'];

/** Tolerances of cuda against cpu per dtype: f32 and f64 near their rounding; bf16/f16 a few of their ulps. */
function tolerance(dtype: DType, c: GpuCase): number {
  switch (dtype) {
    case 'float64': return 1e-10;
    case 'float32': return 2e-5;
    case 'float16': return Math.max(5e-3, (c.lowpTol ?? 0) / 4);
    default: return Math.max(2e-2, c.lowpTol ?? 0);
  }
}

interface Result {
  out: Float32Array | Float64Array | Int32Array;
  shape: number[];
  grads: (Float32Array | Float64Array | Int32Array | null)[];
}

/** Forward and backward of one case on one device, from the same float64 inputs. */
function runOn(c: GpuCase, dtype: DType, dev: Device, seed: number): Result {
  const rnd = mulberry32(seed);
  const xs = c.inputs.map((s) => makeInput(s, rnd));
  return tidy(() => {
    const ts = xs.map((x, i) => {
      const t = tensor(x.data, x.shape, { dtype, device: dev });
      return c.inputs[i].grad === false ? t : t.requiresGrad_();
    });
    const out = c.run(ts, dev);
    expect(out.device).toBe(dev);
    const wr = mulberry32(seed + 100);
    const w = tensor(Float64Array.from({ length: out.numel }, () => wr() * 2 - 1), out.shape, { dtype, device: dev });
    out.backward(w);
    return {
      out: out.to('cpu').toArray(),
      shape: out.shape,
      grads: ts.map((t) => (t.grad ? t.grad.to('cpu').toArray() : null)),
    };
  });
}

describe.skipIf(!hasCuda())('cuda ops against the cpu', () => {
  for (const c of GPU_CASES) {
    for (const dtype of c.dtypes ?? ALL) {
      it(`${c.name} (${dtype})`, () => {
        const cpu = runOn(c, dtype, 'cpu', 7);
        const gpu = runOn(c, dtype, 'cuda', 7);
        const tol = tolerance(dtype, c);
        expect(gpu.shape).toEqual(cpu.shape);
        expectClose(gpu.out, cpu.out, tol, tol, `${c.name} ${dtype} forward`);
        cpu.grads.forEach((g, i) => {
          if (!g) return;
          expect(gpu.grads[i], `${c.name}: input ${i} got no gradient on cuda`).not.toBeNull();
          expectClose(gpu.grads[i]!, g, tol, tol, `${c.name} ${dtype} gradient of input ${i}`);
        });
      });
    }
  }

  it('every op in the table is in the cuda supports table, and int32 is not', () => {
    const ops = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'AddScalar', 'MulScalar', 'PowScalar', 'RDivScalar', 'Neg', 'Exp', 'Log', 'Sqrt', 'Abs',
      'Tanh', 'Sigmoid', 'LogSigmoid', 'Relu', 'Gelu', 'GeluTanh', 'Silu', 'Geglu', 'Clamp', 'Dropout', 'Sum', 'Mean', 'Max', 'Softmax',
      'LogSoftmax', 'Matmul', 'Linear', 'LayerNorm', 'GroupNorm', 'GroupNormSilu', 'Upsample2x', 'AvgPool2d', 'Concat', 'Slice', 'Reshape',
      'Permute', 'Expand', 'Contiguous', 'Embedding', 'CrossEntropy', 'Mse', 'Cast'];
    for (const op of ops) {
      for (const dt of ALL) expect(native().supports(op, dt, 'cuda'), `${op} ${dt}`).toBe(true);
      expect(native().supports(op, 'int32', 'cuda'), `${op} int32`).toBe(false);
    }
  });

  // Gaps that mutation testing on the CUDA simulator found: a launch over an empty tensor (a grid of 0
  // blocks is an invalid configuration) and the target bound of crossEntropy.
  it('softmax, logSoftmax, sum and max of empty tensors on cuda are empty, as on the cpu', () => {
    for (const shape of [[0, 5], [3, 0], [2, 0, 4]]) {
      tidy(() => {
        for (const dev of ['cpu', 'cuda'] as const) {
          const x = tensor(new Float32Array(0), shape, { device: dev });
          for (const y of [x.softmax(-1), x.logSoftmax(-1), x.sum(0)]) {
            expect(y.device).toBe(dev);
            expect(y.to('cpu').toArray().length, `${dev} ${shape}`).toBe(y.numel);
          }
        }
      });
    }
  });

  it('crossEntropy refuses a target of C, or below 0 other than the ignore index, on cuda as on the cpu', () => {
    for (const bad of [30, -1]) {
      for (const dev of ['cpu', 'cuda'] as const) {
        tidy(() => {
          const l = tensor(Float32Array.from({ length: 120 }, (_, i) => Math.sin(i)), [4, 30], { device: dev });
          expect(() => F.crossEntropy(l, idx([2, bad, 0, 1], dev)), `${dev} target ${bad}`).toThrow(
            `Expected targets in [0, 30) for crossEntropy but received ${bad} at row 1`);
        });
      }
    }
  });

  it('copies, views and casts move the same bits on both devices', () => {
    const x = tensor(Float64Array.from({ length: 60 }, (_, i) => Math.sin(i) * 3), [3, 4, 5], { dtype: 'float64' });
    for (const dt of ALL) {
      const a = x.to(dt);
      const viaGpu = a.to('cuda').permute(2, 0, 1).contiguous().to('float32').to('cpu');
      const onCpu = a.permute(2, 0, 1).contiguous().to('float32');
      expect(Array.from(viaGpu.toArray()), dt).toEqual(Array.from(onCpu.toArray()));
    }
  });
});
