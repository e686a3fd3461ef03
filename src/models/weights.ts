// weights.ts: name surgery on state dicts (Map<name, Tensor>) between a checkpoint's layout and a
// model's own names: ImageReward keeps BLIP under 'blip.' and its head under 'mlp.'.
import type { Tensor } from '../api/tensor.js';

export type Weights = Map<string, Tensor> | Record<string, Tensor>;

export function asMap(weights: Weights): Map<string, Tensor> {
  return weights instanceof Map ? weights : new Map(Object.entries(weights));
}

/** The entries whose names start with `prefix`, with it removed; the others are left out. */
export function withoutPrefix(weights: Weights, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of asMap(weights)) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), t);
  return out;
}

/** Every entry with `prefix` put in front of its name. */
export function withPrefix(weights: Weights, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of asMap(weights)) out.set(prefix + name, t);
  return out;
}

/** Whether loading `weights` into `params` would find any missing, unexpected or mis-shaped name (copies nothing). */
export function wouldMismatch(params: Map<string, Tensor>, weights: Map<string, Tensor>): boolean {
  for (const name of params.keys()) if (!weights.has(name)) return true;
  for (const [name, t] of weights) {
    const p = params.get(name);
    if (!p || p.shape.length !== t.shape.length || p.shape.some((d, i) => d !== t.shape[i])) return true;
  }
  return false;
}
