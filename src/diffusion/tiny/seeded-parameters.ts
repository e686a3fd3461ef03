// seeded-parameters.ts: parameters for the small stand-in models, drawn from one seeded stream in a
// fixed order, marked trainable and kept out of tidy() scopes.
import { Rng, zeros } from '../../api/create.js';
import { keep } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';

export class SeededParameters {
  readonly map = new Map<string, Tensor>();
  readonly #rng: Rng;

  constructor(seed: number) {
    this.#rng = new Rng(seed);
  }

  /** N(0, std^2) weights. */
  normal(name: string, shape: number[], std: number): Tensor {
    return this.#add(name, this.#rng.randn(shape).mul(std));
  }

  zeros(name: string, shape: number[]): Tensor {
    return this.#add(name, zeros(shape));
  }

  #add(name: string, t: Tensor): Tensor {
    keep(t);
    t.requiresGrad = true;
    this.map.set(name, t);
    return t;
  }
}
