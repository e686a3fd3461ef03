// sgd.ts: stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay.
import { native, type NativeTensor } from '../../native/addon.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from '../validate.js';
import { Optimizer, type GroupSpec } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  /** Defaults to 0. */
  momentum: number;
  /** Defaults to 0. */
  dampening: number;
  /** L2 penalty added to the gradient. Defaults to 0. */
  weightDecay: number;
  /** Defaults to false. */
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  #buf = new Map<Tensor, Tensor>();

  constructor(params: Tensor[] | GroupSpec<SGDOptions>[], options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
    for (const g of this.groups) {
      checkFinite(g.options.momentum, 'momentum');
      checkFinite(g.options.weightDecay, 'weightDecay');
    }
  }

  protected update(p: Tensor, grad: NativeTensor, o: SGDOptions): void {
    let buf = this.#buf.get(p) ?? null;
    const first = o.momentum !== 0 && !buf;
    if (o.momentum !== 0 && !buf) {
      buf = this.stateLike(p);
      this.#buf.set(p, buf);
    }
    native().sgdStep(p.handle, grad, buf ? buf.handle : null, o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov, first);
  }

  state(): { stepCount: number; tensors: Record<string, Tensor> } {
    const tensors: Record<string, Tensor> = {};
    this.allParams().forEach((p, i) => {
      const b = this.#buf.get(p);
      if (b) tensors[`${i}.momentum`] = b;
    });
    return { stepCount: this.stepCount, tensors };
  }

  loadState(state: { stepCount: number; tensors: Record<string, Tensor> }): void {
    this.stepCount = state.stepCount;
    this.allParams().forEach((p, i) => {
      const b = state.tensors[`${i}.momentum`];
      if (!b) return;
      const bb = this.stateLike(p);
      native().copyInto(bb.handle, b.handle);
      this.#buf.set(p, bb);
    });
  }
}
