// image-noise.ts: seeded noise with one stream per image: row i of every draw comes from
// Rng(seeds[i]) alone, so image i depends only on seed i, whatever else is in the batch.
import { Rng } from '../../api/create.js';
import { F } from '../../api/index.js';
import type { Tensor } from '../../api/tensor.js';
import { checkInt } from '../../api/validate.js';
import { expected } from '../../native/errors.js';
import type { NoiseSource } from '../schedulers/scheduler.js';

export class ImageNoise {
  readonly #rngs: Rng[];

  constructor(seeds: readonly number[]) {
    if (!Array.isArray(seeds) || seeds.length === 0) throw expected('a non-empty array of seeds', 'seeds', seeds);
    this.#rngs = seeds.map((s, i) => new Rng(checkInt(s, `seeds[${i}]`, 0)));
  }

  get batch(): number {
    return this.#rngs.length;
  }

  /** Standard normal noise (B, ...rest): row i from image i's stream. */
  sample(shape: number[]): Tensor {
    if (shape[0] !== this.#rngs.length) throw expected(`a shape with batch ${this.#rngs.length}`, 'shape', shape);
    const rows = this.#rngs.map((r) => r.randn([1, ...shape.slice(1)]));
    if (rows.length === 1) return rows[0];
    const out = F.concat(rows, 0);
    for (const r of rows) r.dispose();
    return out;
  }

  /** This as a scheduler's noise source. */
  source(): NoiseSource {
    return (shape) => this.sample(shape);
  }
}
