// cases.ts: one declarative case per op (forward reference, shapes, input ranges). ops.test.ts
// runs each through checkForward and checkBackward.
import { F, tensor, type Tensor } from '../../src/index.js';
import type { OpCase } from '../helpers/gradcheck.js';
import { ND, zip } from '../helpers/nd.js';
import * as R from '../helpers/reference.js';

const u = (f: (x: number) => number) => (xs: ND[]) => xs[0].map(f);
const idx = (values: number[]) => tensor(Int32Array.from(values), [values.length], { dtype: 'int32' });

export const OP_CASES: OpCase[] = [
  // elementwise with broadcasting
  { name: 'add', inputs: [{ shape: [2, 3] }, { shape: [3] }], run: ([a, b]) => a.add(b), ref: ([a, b]) => zip(a, b, (x, y) => x + y) },
  { name: 'sub', inputs: [{ shape: [2, 1, 3] }, { shape: [4, 1] }], run: ([a, b]) => a.sub(b), ref: ([a, b]) => zip(a, b, (x, y) => x - y) },
  { name: 'mul', inputs: [{ shape: [3, 4] }, { shape: [3, 1] }], run: ([a, b]) => a.mul(b), ref: ([a, b]) => zip(a, b, (x, y) => x * y) },
  { name: 'div', inputs: [{ shape: [2, 3] }, { shape: [2, 3], range: [0.5, 2] }], run: ([a, b]) => a.div(b), ref: ([a, b]) => zip(a, b, (x, y) => x / y) },
  { name: 'pow', inputs: [{ shape: [5], range: [0.5, 2] }, { shape: [5], range: [-1.5, 1.5] }], run: ([a, b]) => a.pow(b), ref: ([a, b]) => zip(a, b, Math.pow) },
  { name: 'add scalar', inputs: [{ shape: [4] }], run: ([a]) => a.add(1.5), ref: u((x) => x + 1.5) },
  { name: 'sub scalar', inputs: [{ shape: [4] }], run: ([a]) => a.sub(0.25), ref: u((x) => x - 0.25) },
  { name: 'mul scalar', inputs: [{ shape: [4] }], run: ([a]) => a.mul(-3), ref: u((x) => x * -3) },
  { name: 'div scalar', inputs: [{ shape: [4] }], run: ([a]) => a.div(4), ref: u((x) => x / 4) },
  { name: 'pow scalar', inputs: [{ shape: [6], range: [0.2, 2] }], run: ([a]) => a.pow(2.5), ref: u((x) => x ** 2.5) },
  { name: 'square', inputs: [{ shape: [6] }], run: ([a]) => a.pow(2), ref: u((x) => x * x) },
  { name: 'rdiv scalar', inputs: [{ shape: [5], range: [0.5, 2] }], run: ([a]) => a.rdiv(3), ref: u((x) => 3 / x) },
  { name: 'rsub scalar', inputs: [{ shape: [5] }], run: ([a]) => a.rsub(1), ref: u((x) => 1 - x) },
  // unary
  { name: 'neg', inputs: [{ shape: [2, 3] }], run: ([a]) => a.neg(), ref: u((x) => -x) },
  { name: 'exp', inputs: [{ shape: [2, 3] }], run: ([a]) => a.exp(), ref: u(Math.exp) },
  { name: 'log', inputs: [{ shape: [2, 3], range: [0.1, 3] }], run: ([a]) => a.log(), ref: u(Math.log) },
  { name: 'sqrt', inputs: [{ shape: [2, 3], range: [0.1, 3] }], run: ([a]) => a.sqrt(), ref: u(Math.sqrt) },
  { name: 'abs', inputs: [{ shape: [7], awayFrom: [0] }], run: ([a]) => a.abs(), ref: u(Math.abs) },
  { name: 'tanh', inputs: [{ shape: [2, 3] }], run: ([a]) => a.tanh(), ref: u(Math.tanh) },
  { name: 'sigmoid', inputs: [{ shape: [2, 3], range: [-6, 6] }], run: ([a]) => a.sigmoid(), ref: u(R.sigmoid) },
  { name: 'logSigmoid', inputs: [{ shape: [2, 3], range: [-20, 20] }], run: ([a]) => a.logSigmoid(), ref: u((x) => -Math.log1p(Math.exp(-x))) },
  { name: 'relu', inputs: [{ shape: [8], awayFrom: [0] }], run: ([a]) => a.relu(), ref: u((x) => Math.max(0, x)) },
  { name: 'gelu exact', inputs: [{ shape: [8], range: [-4, 4] }], run: ([a]) => a.gelu(), ref: u(R.geluExact) },
  { name: 'gelu tanh', inputs: [{ shape: [8], range: [-4, 4] }], run: ([a]) => a.gelu({ approximate: 'tanh' }), ref: u(R.geluTanh) },
  { name: 'silu', inputs: [{ shape: [8], range: [-5, 5] }], run: ([a]) => a.silu(), ref: u((x) => x * R.sigmoid(x)) },
  {
    name: 'geglu', inputs: [{ shape: [2, 6] }], run: ([a]) => a.geglu(),
    ref: ([a]) => {
      const out = new ND([2, 3]);
      for (let r = 0; r < 2; r++) for (let j = 0; j < 3; j++) out.set(a.get(r, j) * R.geluExact(a.get(r, j + 3)), r, j);
      return out;
    },
  },
  { name: 'clamp', inputs: [{ shape: [9], awayFrom: [-0.5, 0.7] }], run: ([a]) => a.clamp(-0.5, 0.7), ref: u((x) => Math.min(0.7, Math.max(-0.5, x))) },
  // reductions
  { name: 'sum all', inputs: [{ shape: [2, 3, 4] }], run: ([a]) => a.sum(), ref: ([a]) => R.reduce(a, [], false, (v) => v.reduce((p, q) => p + q, 0)) },
  { name: 'sum axes keepdim', inputs: [{ shape: [2, 3, 4] }], run: ([a]) => a.sum([0, 2], true), ref: ([a]) => R.reduce(a, [0, 2], true, (v) => v.reduce((p, q) => p + q, 0)) },
  { name: 'mean axis', inputs: [{ shape: [3, 5] }], run: ([a]) => a.mean(1), ref: ([a]) => R.reduce(a, [1], false, (v) => v.reduce((p, q) => p + q, 0) / v.length) },
  { name: 'max axis', inputs: [{ shape: [3, 5] }], run: ([a]) => a.max(-1), ref: ([a]) => R.reduce(a, [-1], false, (v) => Math.max(...v)) },
  { name: 'max all', inputs: [{ shape: [2, 4] }], run: ([a]) => a.max(), ref: ([a]) => R.reduce(a, [], false, (v) => Math.max(...v)) },
  { name: 'softmax last', inputs: [{ shape: [3, 5] }], run: ([a]) => a.softmax(-1), ref: ([a]) => R.softmax(a, -1) },
  { name: 'softmax middle', inputs: [{ shape: [2, 4, 3] }], run: ([a]) => a.softmax(1), ref: ([a]) => R.softmax(a, 1) },
  { name: 'logSoftmax', inputs: [{ shape: [3, 5], range: [-5, 5] }], run: ([a]) => a.logSoftmax(-1), ref: ([a]) => R.softmax(a, -1, true) },
  // products
  { name: 'matmul 2d', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], run: ([a, b]) => a.matmul(b), ref: ([a, b]) => R.matmul(a, b) },
  { name: 'matmul batched broadcast', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], run: ([a, b]) => a.matmul(b), ref: ([a, b]) => R.matmul(a, b) },
  { name: 'matmul transposed view', inputs: [{ shape: [2, 4, 3] }, { shape: [2, 5, 3] }], run: ([a, b]) => a.matmul(b.transpose(-1, -2)), ref: ([a, b]) => R.matmul(a, R.transposeLast(b)) },
  {
    name: 'matmul vector', inputs: [{ shape: [3, 4] }, { shape: [4] }], run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => new ND([3], R.matmul(a, new ND([4, 1], b.data)).data),
  },
  { name: 'linear', inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }], run: ([x, w, b]) => F.linear(x, w, b), ref: ([x, w, b]) => R.linear(x, w, b) },
  { name: 'linear no bias', inputs: [{ shape: [3, 4] }, { shape: [2, 4] }], run: ([x, w]) => F.linear(x, w), ref: ([x, w]) => R.linear(x, w) },
  // normalisation
  { name: 'layerNorm', inputs: [{ shape: [3, 6] }, { shape: [6] }, { shape: [6] }], run: ([x, w, b]) => F.layerNorm(x, [6], w, b), ref: ([x, w, b]) => R.layerNorm(x, 1, w, b) },
  { name: 'layerNorm 2 dims, no affine', inputs: [{ shape: [2, 3, 4] }], run: ([x]) => F.layerNorm(x, [3, 4]), ref: ([x]) => R.layerNorm(x, 2) },
  {
    name: 'groupNorm', inputs: [{ shape: [2, 4, 3, 3] }, { shape: [4] }, { shape: [4] }], run: ([x, w, b]) => F.groupNorm(x, 2, w, b),
    ref: ([x, w, b]) => R.groupNorm(x, 2, w, b),
  },
  { name: 'groupNorm no affine', inputs: [{ shape: [2, 6, 5] }], run: ([x]) => F.groupNorm(x, 3), ref: ([x]) => R.groupNorm(x, 3) },
  // images
  {
    name: 'conv2d 3x3 pad 1', inputs: [{ shape: [2, 3, 5, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }],
    run: ([x, w, b]) => F.conv2d(x, w, b, { padding: 1 }), ref: ([x, w, b]) => R.conv2d(x, w, b, [1, 1], [1, 1], 1),
  },
  {
    name: 'conv2d stride 2', inputs: [{ shape: [1, 2, 6, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }],
    run: ([x, w, b]) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), ref: ([x, w, b]) => R.conv2d(x, w, b, [2, 2], [1, 1], 1),
  },
  {
    name: 'conv2d 1x1', inputs: [{ shape: [2, 4, 3, 3] }, { shape: [2, 4, 1, 1] }],
    run: ([x, w]) => F.conv2d(x, w), ref: ([x, w]) => R.conv2d(x, w, undefined, [1, 1], [0, 0], 1),
  },
  {
    name: 'conv2d groups, non-square', inputs: [{ shape: [1, 4, 5, 4] }, { shape: [6, 2, 3, 2] }, { shape: [6] }],
    run: ([x, w, b]) => F.conv2d(x, w, b, { groups: 2, padding: [1, 0], stride: [1, 2] }), ref: ([x, w, b]) => R.conv2d(x, w, b, [1, 2], [1, 0], 2),
  },
  { name: 'upsampleNearest2x', inputs: [{ shape: [1, 2, 2, 3] }], run: ([x]) => F.upsampleNearest2x(x), ref: ([x]) => R.upsample2x(x) },
  { name: 'avgPool2d', inputs: [{ shape: [1, 2, 4, 5] }], run: ([x]) => F.avgPool2d(x, 2), ref: ([x]) => R.avgPool(x, 2, 2) },
  // shape
  { name: 'reshape', inputs: [{ shape: [2, 6] }], run: ([a]) => a.reshape(3, -1).mul(2), ref: ([a]) => new ND([3, 4], a.data).map((x) => 2 * x) },
  { name: 'permute', inputs: [{ shape: [2, 3, 4] }], run: ([a]) => a.permute(2, 0, 1).contiguous(), ref: ([a]) => R.permute(a, [2, 0, 1]) },
  { name: 'transpose then reshape', inputs: [{ shape: [3, 4] }], run: ([a]) => a.transpose(0, 1).reshape(-1), ref: ([a]) => new ND([12], R.permute(a, [1, 0]).data) },
  { name: 'slice step', inputs: [{ shape: [3, 7] }], run: ([a]) => a.slice(1, 1, 6, 2).mul(1), ref: ([a]) => R.sliceRef(a, 1, 1, 6, 2) },
  { name: 'expand', inputs: [{ shape: [3, 1] }], run: ([a]) => a.expand(2, 3, 4).mul(1), ref: ([a]) => zip(new ND([2, 3, 4]), a, (_, y) => y) },
  { name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], run: ([a, b]) => F.concat([a, b], 1), ref: ([a, b]) => R.concatRef([a, b], 1) },
  // lookup, attention, losses
  {
    name: 'embedding', inputs: [{ shape: [5, 3] }], run: ([w]) => F.embedding(w, idx([4, 0, 4, 2])),
    ref: ([w]) => new ND([4, 3], [4, 0, 4, 2].flatMap((i) => Array.from(w.data.slice(i * 3, i * 3 + 3)))),
  },
  {
    name: 'attention self', inputs: [{ shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }],
    run: ([q, k, v]) => F.attention(q, k, v), ref: ([q, k, v]) => R.attention(q, k, v, undefined, 1 / Math.sqrt(3)),
  },
  {
    name: 'attention cross with mask', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [2, 1, 5, 4] }, { shape: [2, 1, 5, 4] }, { shape: [3, 5], grad: false }],
    run: ([q, k, v, m]) => F.attention(q, k, v, { mask: m, scale: 0.3 }), ref: ([q, k, v, m]) => R.attention(q, k, v, m, 0.3),
  },
  {
    name: 'crossEntropy', inputs: [{ shape: [4, 3] }], run: ([l]) => F.crossEntropy(l, idx([2, 0, -100, 1])),
    ref: ([l]) => new ND([], [R.crossEntropy(l, [2, 0, -100, 1], -100)]),
  },
  { name: 'mseLoss', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], run: ([a, b]) => F.mseLoss(a, b), ref: ([a, b]) => new ND([], [zip(a, b, (x, y) => (x - y) ** 2).data.reduce((p, q) => p + q, 0) / 6]) },
];

/** Cases whose error text is part of the contract. */
export interface ErrorCase {
  name: string;
  run: () => unknown;
  code: string;
  message: string;
}

const f32 = (shape: number[]): Tensor => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

export const ERROR_CASES: ErrorCase[] = [
  { name: 'add shapes', run: () => f32([2, 3]).add(f32([4])), code: 'SHAPE_MISMATCH', message: 'Expected shapes that broadcast together for add but received [2, 3] and [4]' },
  { name: 'add dtypes', run: () => f32([2]).add(tensor([1, 2], undefined, { dtype: 'float64' })), code: 'DTYPE', message: 'Expected tensors of one dtype for add but received float32 and float64' },
  { name: 'add non-tensor', run: () => f32([2]).add('x' as unknown as number), code: 'INVALID_ARGUMENT', message: 'Expected a Tensor for other but received "x"' },
  { name: 'exp of int32', run: () => tensor([1, 2], undefined, { dtype: 'int32' }).exp(), code: 'DTYPE', message: 'Expected a floating-point tensor for input of exp but received int32' },
  { name: 'matmul inner', run: () => f32([2, 3]).matmul(f32([2, 3])), code: 'SHAPE_MISMATCH', message: 'Expected the inner dimensions of matmul to agree but received [2, 3] @ [2, 3] (3 != 2)' },
  { name: 'linear weight', run: () => F.linear(f32([2, 3]), f32([4, 5])), code: 'SHAPE_MISMATCH', message: 'Expected an input whose last dimension is 5 for linear but received [2, 3]' },
  { name: 'sum axis', run: () => f32([2, 3]).sum(2), code: 'INVALID_ARGUMENT', message: 'Expected a dimension in [-2, 1] for axes[0] but received 2' },
  { name: 'softmax dim', run: () => f32([2, 3]).softmax(-3), code: 'INVALID_ARGUMENT', message: 'Expected a dimension in [-2, 1] for dim but received -3' },
  { name: 'reshape size', run: () => f32([2, 3]).reshape(4, 2), code: 'SHAPE_MISMATCH', message: 'Expected a shape with 6 elements for reshape of [2, 3] but received [4, 2]' },
  { name: 'conv2d rank', run: () => F.conv2d(f32([3, 5, 5]), f32([4, 3, 3, 3])), code: 'SHAPE_MISMATCH', message: 'Expected an input of shape [N, C, H, W] for conv2d but received [3, 5, 5]' },
  {
    name: 'conv2d channels', run: () => F.conv2d(f32([1, 3, 5, 5]), f32([4, 2, 3, 3])), code: 'SHAPE_MISMATCH',
    message: 'Expected weight [Cout, 3, kh, kw] with Cout divisible by groups 1 for an input of 3 channels, but received weight [4, 2, 3, 3]',
  },
  { name: 'groupNorm groups', run: () => F.groupNorm(f32([1, 6, 2]), 4), code: 'SHAPE_MISMATCH', message: 'Expected an input [N, C, ...] with C divisible by 4 groups for groupNorm but received [1, 6, 2]' },
  { name: 'layerNorm shape', run: () => F.layerNorm(f32([2, 3]), [4]), code: 'SHAPE_MISMATCH', message: 'Expected normalizedShape to be the trailing shape of the input [2, 3] for layerNorm but received [4]' },
  { name: 'embedding index dtype', run: () => F.embedding(f32([5, 2]), f32([3])), code: 'DTYPE', message: 'Expected int32 indices for embedding but received float32' },
  { name: 'embedding index range', run: () => F.embedding(f32([5, 2]), idx([1, 7])), code: 'INVALID_ARGUMENT', message: 'Expected indices in [0, 5) for embedding but received 7 at position 1' },
  { name: 'crossEntropy target range', run: () => F.crossEntropy(f32([2, 3]), idx([0, 3])), code: 'INVALID_ARGUMENT', message: 'Expected targets in [0, 3) for crossEntropy but received 3 at row 1' },
  { name: 'attention rank', run: () => F.attention(f32([2, 3, 4]), f32([2, 3, 4]), f32([2, 3, 4])), code: 'SHAPE_MISMATCH', message: 'Expected q, k, v of shape [B, H, S, D] for attention but received [2, 3, 4], [2, 3, 4], [2, 3, 4]' },
  { name: 'concat shapes', run: () => F.concat([f32([2, 3]), f32([3, 3])], 1), code: 'SHAPE_MISMATCH', message: 'Expected shapes that agree except in dimension 1 for concat but received [2, 3] and [3, 3] (tensors[1])' },
  { name: 'clamp bounds', run: () => f32([2]).clamp(1, 0), code: 'INVALID_ARGUMENT', message: 'Expected a max >= min (1) for max but received 0' },
  { name: 'dtype name', run: () => tensor([1], undefined, { dtype: 'float8' as never }), code: 'DTYPE', message: 'Expected one of float32, float64, bfloat16, float16, int32 for dtype but received "float8"' },
];
