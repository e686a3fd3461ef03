// functional.ts: the neural-network ops as functions (like torch.nn.functional): linear,
// convolution, normalisation, pooling, attention, embedding, losses, dropout, concat.
import { native } from '../native/addon.js';
import { expected, TreeRewardError } from '../native/errors.js';
import { type Rng } from './create.js';
import { requireFloat, requireSameDType, requireTensor, Tensor, wrapOp } from './tensor.js';
import { broadcastShapes, checkDim, checkFinite, checkInt, checkProbability, fmtShape, shapeMismatch } from './validate.js';

function optTensor(t: Tensor | null | undefined, name: string): Tensor | null {
  if (t === undefined || t === null) return null;
  requireTensor(t, name);
  return t;
}

/** y = x @ weight^T + bias; x (..., IN), weight (OUT, IN), bias (OUT). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  requireTensor(x, 'x');
  requireTensor(weight, 'weight');
  const b = optTensor(bias, 'bias');
  requireFloat(x, 'linear', 'x');
  requireSameDType(x, weight, 'linear');
  const ws = weight.shape, xs = x.shape;
  if (ws.length !== 2) throw shapeMismatch(`Expected a weight of shape [out, in] for linear but received ${fmtShape(ws)}`);
  if (xs.length < 1 || xs[xs.length - 1] !== ws[1]) {
    throw shapeMismatch(`Expected an input whose last dimension is ${ws[1]} for linear but received ${fmtShape(xs)}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== ws[0])) {
    throw shapeMismatch(`Expected a bias of shape [${ws[0]}] for linear but received ${fmtShape(b.shape)}`);
  }
  return wrapOp(() => native().linear(x.handle, weight.handle, b ? b.handle : null));
}

export interface Conv2dOptions {
  /** Defaults to 1. A number or [h, w]. */
  stride?: number | [number, number];
  /** Zero padding. Defaults to 0. A number or [h, w]. */
  padding?: number | [number, number];
  /** Defaults to 1. */
  groups?: number;
}

function pair(v: number | [number, number] | undefined, name: string, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2) throw expected('a number or [h, w]', name, v);
  checkInt(p[0], name, min);
  checkInt(p[1], name, min);
  return p;
}

/** x (N, Cin, H, W), weight (Cout, Cin/groups, kh, kw), bias (Cout). */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  requireTensor(x, 'x');
  requireTensor(weight, 'weight');
  const b = optTensor(bias, 'bias');
  requireFloat(x, 'conv2d', 'x');
  requireSameDType(x, weight, 'conv2d');
  const [sh, sw] = pair(options.stride, 'stride', 1, 1);
  const [ph, pw] = pair(options.padding, 'padding', 0, 0);
  const groups = checkInt(options.groups ?? 1, 'groups', 1);
  const xs = x.shape, ws = weight.shape;
  if (xs.length !== 4) throw shapeMismatch(`Expected an input of shape [N, C, H, W] for conv2d but received ${fmtShape(xs)}`);
  if (ws.length !== 4) throw shapeMismatch(`Expected a weight of shape [Cout, Cin/groups, kh, kw] for conv2d but received ${fmtShape(ws)}`);
  if (xs[1] % groups !== 0 || ws[0] % groups !== 0 || ws[1] * groups !== xs[1]) {
    throw shapeMismatch(`Expected weight [Cout, ${xs[1] / groups}, kh, kw] with Cout divisible by groups ${groups} for an input of ${xs[1]} channels, but received weight ${fmtShape(ws)}`);
  }
  if (xs[2] + 2 * ph < ws[2] || xs[3] + 2 * pw < ws[3]) {
    throw shapeMismatch(`Expected an input of at least the kernel size ${ws[2]}x${ws[3]} (after padding) for conv2d but received ${fmtShape(xs)}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== ws[0])) throw shapeMismatch(`Expected a bias of shape [${ws[0]}] for conv2d but received ${fmtShape(b.shape)}`);
  return wrapOp(() => native().conv2d(x.handle, weight.handle, b ? b.handle : null, sh, sw, ph, pw, groups));
}

/** Layer norm over the last dimensions given by normalizedShape (the trailing shape of x). */
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  requireTensor(x, 'x');
  requireFloat(x, 'layerNorm', 'x');
  const w = optTensor(weight, 'weight'), b = optTensor(bias, 'bias');
  const xs = x.shape, k = normalizedShape.length;
  if (k < 1 || k > xs.length || normalizedShape.some((d, i) => d !== xs[xs.length - k + i])) {
    throw shapeMismatch(`Expected normalizedShape to be the trailing shape of the input ${fmtShape(xs)} for layerNorm but received ${fmtShape(normalizedShape)}`);
  }
  for (const [t, n] of [[w, 'weight'], [b, 'bias']] as const) {
    if (t && fmtShape(t.shape) !== fmtShape(normalizedShape)) throw shapeMismatch(`Expected a ${n} of shape ${fmtShape(normalizedShape)} for layerNorm but received ${fmtShape(t.shape)}`);
  }
  checkFinite(eps, 'eps');
  return wrapOp(() => native().layerNorm(x.handle, k, w ? w.handle : null, b ? b.handle : null, eps));
}

/** Group norm: x (N, C, *) in `groups` groups, weight and bias (C). */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const [w, b] = checkGroupNorm(x, groups, weight, bias, eps, 'groupNorm');
  return wrapOp(() => native().groupNorm(x.handle, groups, w ? w.handle : null, b ? b.handle : null, eps));
}

/**
 * silu(groupNorm(x)) in one pass, as the UNet's and VAE's norm -> activation pairs run: the same
 * result and gradients as the composition, without its intermediate tensor.
 */
export function groupNormSilu(x: Tensor, groups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const [w, b] = checkGroupNorm(x, groups, weight, bias, eps, 'groupNormSilu');
  return wrapOp(() => native().groupNormSilu(x.handle, groups, w ? w.handle : null, b ? b.handle : null, eps));
}

function checkGroupNorm(x: Tensor, groups: number, weight: Tensor | null | undefined, bias: Tensor | null | undefined, eps: number, op: string): [Tensor | null, Tensor | null] {
  requireTensor(x, 'x');
  requireFloat(x, op, 'x');
  checkInt(groups, 'groups', 1);
  const w = optTensor(weight, 'weight'), b = optTensor(bias, 'bias');
  const xs = x.shape;
  if (xs.length < 2 || xs[1] % groups !== 0) {
    throw shapeMismatch(`Expected an input [N, C, ...] with C divisible by ${groups} groups for ${op} but received ${fmtShape(xs)}`);
  }
  for (const [t, n] of [[w, 'weight'], [b, 'bias']] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== xs[1])) throw shapeMismatch(`Expected a ${n} of shape [${xs[1]}] for ${op} but received ${fmtShape(t.shape)}`);
  }
  checkFinite(eps, 'eps');
  return [w, b];
}

/** Nearest-neighbour 2x upsampling of (N, C, H, W). */
export function upsampleNearest2x(x: Tensor): Tensor {
  requireTensor(x, 'x');
  requireFloat(x, 'upsampleNearest2x', 'x');
  if (x.rank !== 4) throw shapeMismatch(`Expected an input of shape [N, C, H, W] for upsampleNearest2x but received ${fmtShape(x.shape)}`);
  return wrapOp(() => native().upsampleNearest2x(x.handle));
}

/** Average pooling without padding. stride defaults to kernel. */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  requireTensor(x, 'x');
  requireFloat(x, 'avgPool2d', 'x');
  checkInt(kernel, 'kernel', 1);
  checkInt(stride, 'stride', 1);
  const s = x.shape;
  if (s.length !== 4 || s[2] < kernel || s[3] < kernel) {
    throw shapeMismatch(`Expected an input of shape [N, C, H, W] with H, W >= ${kernel} for avgPool2d but received ${fmtShape(s)}`);
  }
  return wrapOp(() => native().avgPool2d(x.handle, kernel, stride));
}

/**
 * Scaled dot-product attention: q (B, H, Sq, D), k and v (B, H, Skv, D), an optional additive mask
 * broadcastable to (B, H, Sq, Skv). The fused kernel (FlashAttention-2 scheme: memory linear in the
 * sequence length) by default; `impl: 'plain'` composes matmul and softmax (the reference).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: { mask?: Tensor | null; scale?: number; impl?: 'fused' | 'plain' } = {}): Tensor {
  requireTensor(q, 'q');
  requireTensor(k, 'k');
  requireTensor(v, 'v');
  const m = optTensor(options.mask, 'mask');
  const qs = q.shape, ks = k.shape, vs = v.shape;
  if (qs.length !== 4 || ks.length !== 4 || vs.length !== 4) {
    throw shapeMismatch(`Expected q, k, v of shape [B, H, S, D] for attention but received ${fmtShape(qs)}, ${fmtShape(ks)}, ${fmtShape(vs)}`);
  }
  if (qs[0] !== ks[0] || qs[1] !== ks[1] || qs[3] !== ks[3]) throw shapeMismatch(`Expected q and k to agree in B, H and D for attention but received ${fmtShape(qs)} and ${fmtShape(ks)}`);
  if (ks[0] !== vs[0] || ks[1] !== vs[1] || ks[2] !== vs[2]) throw shapeMismatch(`Expected k and v to agree in [B, H, Skv] for attention but received ${fmtShape(ks)} and ${fmtShape(vs)}`);
  if (m) broadcastShapes(m.shape, [qs[0], qs[1], qs[2], ks[2]], 'attention mask');
  const scale = options.scale ?? 1 / Math.sqrt(qs[3]);
  checkFinite(scale, 'scale');
  const impl = options.impl ?? 'fused';
  if (impl !== 'fused' && impl !== 'plain') throw expected('"fused" or "plain"', 'impl', impl);
  if (impl === 'plain') return wrapOp(() => native().attentionPlain(q.handle, k.handle, v.handle, m ? m.handle : null, scale));
  return wrapOp(() => native().attention(q.handle, k.handle, v.handle, m ? m.handle : null, scale));
}

/** Rows of weight (V, D) at int32 indices (...) -> (..., D). */
export function embedding(weight: Tensor, indices: Tensor): Tensor {
  requireTensor(weight, 'weight');
  requireTensor(indices, 'indices');
  if (weight.rank !== 2) throw shapeMismatch(`Expected a weight of shape [vocab, dim] for embedding but received ${fmtShape(weight.shape)}`);
  if (indices.dtype !== 'int32') throw new TreeRewardError('DTYPE', `Expected int32 indices for embedding but received ${indices.dtype}`);
  return wrapOp(() => native().embedding(weight.handle, indices.handle));
}

/** Mean cross-entropy of logits (N, C) against int32 class targets (N); rows equal to ignoreIndex are skipped. */
export function crossEntropy(logits: Tensor, targets: Tensor, options: { ignoreIndex?: number } = {}): Tensor {
  requireTensor(logits, 'logits');
  requireTensor(targets, 'targets');
  requireFloat(logits, 'crossEntropy', 'logits');
  if (logits.rank !== 2) throw shapeMismatch(`Expected logits of shape [N, C] for crossEntropy but received ${fmtShape(logits.shape)}`);
  if (targets.dtype !== 'int32') throw new TreeRewardError('DTYPE', `Expected int32 targets for crossEntropy but received ${targets.dtype}`);
  if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw shapeMismatch(`Expected targets of shape [${logits.shape[0]}] for crossEntropy but received ${fmtShape(targets.shape)}`);
  }
  const ignore = checkInt(options.ignoreIndex ?? -100, 'ignoreIndex');
  return wrapOp(() => native().crossEntropy(logits.handle, targets.handle, ignore));
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor): Tensor {
  requireTensor(input, 'input');
  requireTensor(target, 'target');
  requireSameDType(input, target, 'mseLoss');
  if (fmtShape(input.shape) !== fmtShape(target.shape)) {
    throw shapeMismatch(`Expected input and target of one shape for mseLoss but received ${fmtShape(input.shape)} and ${fmtShape(target.shape)}`);
  }
  return wrapOp(() => native().mseLoss(input.handle, target.handle));
}

/** Inverted dropout with a mask drawn from rng (seeded: the same rng state gives the same mask). */
export function dropout(x: Tensor, p: number, rng: Rng, options: { training?: boolean } = {}): Tensor {
  requireTensor(x, 'x');
  checkProbability(p, 'p');
  if (options.training === false || p === 0) return x;
  const { seed, offset } = rng.take(x.numel);
  return wrapOp(() => native().dropout(x.handle, p, seed, offset));
}

/** Joins tensors along dim. */
export function concat(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw expected('a non-empty array of tensors', 'tensors', tensors);
  tensors.forEach((t, i) => requireTensor(t, `tensors[${i}]`));
  const r = tensors[0].rank;
  const d = checkDim(dim, r);
  const s0 = tensors[0].shape;
  tensors.forEach((t, i) => {
    const s = t.shape;
    if (s.length !== r || s.some((v, j) => j !== d && v !== s0[j])) {
      throw shapeMismatch(`Expected shapes that agree except in dimension ${d} for concat but received ${fmtShape(s0)} and ${fmtShape(s)} (tensors[${i}])`);
    }
  });
  return wrapOp(() => native().concat(tensors.map((t) => t.handle), d));
}

/** Stacks same-shaped tensors along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw expected('a non-empty array of tensors', 'tensors', tensors);
  const parts = tensors.map((t) => t.unsqueeze(dim));
  const out = concat(parts, dim);
  for (const p of parts) p.dispose();
  return out;
}
