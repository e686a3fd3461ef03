// linear-params.ts: named trainable tensors for the small layers the pretraining objectives add
// (projections, the ITM head, the temperature), initialised as PyTorch's nn.Linear is.
import { F, keep, type Rng, tensor, type Tensor } from '../api/index.js';

/** Weight (out, in) and bias (out) drawn from U(-1/sqrt(in), 1/sqrt(in)), PyTorch's nn.Linear default. */
export function linearParams(params: Map<string, Tensor>, name: string, inFeatures: number, outFeatures: number, rng: Rng): void {
  const bound = 1 / Math.sqrt(inFeatures);
  for (const [suffix, shape] of [['weight', [outFeatures, inFeatures]], ['bias', [outFeatures]]] as const) {
    const u = rng.rand([...shape]);
    const t = keep(u.mul(2 * bound).sub(bound));
    u.dispose();
    t.requiresGrad = true;
    params.set(`${name}.${suffix}`, t);
  }
}

/** A trainable scalar (shape []). */
export function scalarParam(params: Map<string, Tensor>, name: string, value: number): void {
  const t = keep(tensor(value));
  t.requiresGrad = true;
  params.set(name, t);
}

/** `${name}.weight` and `${name}.bias` applied to x (..., in). */
export function applyLinear(params: Map<string, Tensor>, name: string, x: Tensor): Tensor {
  return F.linear(x, params.get(`${name}.weight`)!, params.get(`${name}.bias`)!);
}

/** x / ||x|| along the last dimension. */
export function l2normalize(x: Tensor): Tensor {
  return x.div(x.mul(x).sum(-1, true).add(1e-12).sqrt());
}

/** Disposes every tensor of the map and empties it. */
export function disposeAll(params: Map<string, Tensor>): void {
  for (const t of params.values()) t.dispose();
  params.clear();
}
