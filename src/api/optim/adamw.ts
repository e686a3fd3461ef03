// adamw.ts: Adam with decoupled weight decay (Loshchilov & Hutter 2019), one fused native step per parameter.
import { native, type NativeTensor } from '../../native/addon.js';
import { expected } from '../../native/errors.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from '../validate.js';
import { Optimizer, type GroupSpec } from './optimizer.js';

export interface AdamWOptions {
  /** Defaults to 1e-3. */
  lr: number;
  /** Defaults to [0.9, 0.999]. */
  betas: [number, number];
  /** Defaults to 1e-8. */
  eps: number;
  /** Decoupled weight decay. Defaults to 0.01. */
  weightDecay: number;
}

export class AdamW extends Optimizer<AdamWOptions> {
  #m = new Map<Tensor, Tensor>();
  #v = new Map<Tensor, Tensor>();
  #steps = new Map<Tensor, number>();

  constructor(params: Tensor[] | GroupSpec<AdamWOptions>[], options: Partial<AdamWOptions> = {}) {
    const defaults: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, ...options };
    super(params, defaults);
    for (const g of this.groups) {
      const [b1, b2] = g.options.betas;
      if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw expected('betas in [0, 1)', 'betas', g.options.betas);
      checkFinite(g.options.eps, 'eps');
      checkFinite(g.options.weightDecay, 'weightDecay');
    }
  }

  protected update(p: Tensor, grad: NativeTensor, o: AdamWOptions): void {
    let m = this.#m.get(p), v = this.#v.get(p);
    if (!m || !v) {
      m = this.stateLike(p);
      v = this.stateLike(p);
      this.#m.set(p, m);
      this.#v.set(p, v);
    }
    const step = (this.#steps.get(p) ?? 0) + 1;
    this.#steps.set(p, step);
    native().adamwStep(p.handle, grad, m.handle, v.handle, o.lr, o.betas[0], o.betas[1], o.eps, o.weightDecay, step);
  }

  state(): { stepCount: number; tensors: Record<string, Tensor> } {
    const tensors: Record<string, Tensor> = {};
    this.allParams().forEach((p, i) => {
      const m = this.#m.get(p), v = this.#v.get(p);
      if (m && v) {
        tensors[`${i}.m`] = m;
        tensors[`${i}.v`] = v;
        tensors[`${i}.step`] = new Tensor(native().full([1], this.#steps.get(p) ?? 0, 'float64'));
      }
    });
    return { stepCount: this.stepCount, tensors };
  }

  loadState(state: { stepCount: number; tensors: Record<string, Tensor> }): void {
    this.stepCount = state.stepCount;
    this.allParams().forEach((p, i) => {
      const m = state.tensors[`${i}.m`], v = state.tensors[`${i}.v`], s = state.tensors[`${i}.step`];
      if (!m || !v || !s) return;
      const mm = this.stateLike(p), vv = this.stateLike(p);
      native().copyInto(mm.handle, m.handle);
      native().copyInto(vv.handle, v.handle);
      this.#m.set(p, mm);
      this.#v.set(p, vv);
      this.#steps.set(p, s.item());
    });
  }
}
