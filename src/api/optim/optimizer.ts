// optimizer.ts: parameter groups with their own hyperparameters, zeroGrad, and the per-parameter
// state that SGD and AdamW keep. Gradient accumulation: call backward() several times (with the
// loss divided by the number of micro-batches), then step() once: gradients add up in between.
import { native } from '../../native/addon.js';
import { expected } from '../../native/errors.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from '../validate.js';

export interface ParamGroup<H> {
  params: Tensor[];
  options: H;
  /** The learning rate set at construction; schedules multiply it. */
  baseLr: number;
}

export type GroupSpec<H> = { params: Tensor[] } & Partial<H>;

export abstract class Optimizer<H extends { lr: number }> {
  readonly groups: ParamGroup<H>[];
  /** Steps taken so far. */
  stepCount = 0;

  constructor(params: Tensor[] | GroupSpec<H>[], defaults: H) {
    if (!Array.isArray(params) || params.length === 0) throw expected('a non-empty array of parameters or parameter groups', 'params', params);
    const specs: GroupSpec<H>[] = params[0] instanceof Tensor ? [{ params: params as Tensor[] } as GroupSpec<H>] : (params as GroupSpec<H>[]);
    const seen = new Set<Tensor>();
    this.groups = specs.map((spec, gi) => {
      if (!spec || !Array.isArray(spec.params)) throw expected('{ params: Tensor[] }', `params[${gi}]`, spec);
      const options = { ...defaults } as H;
      for (const [k, v] of Object.entries(spec)) if (k !== 'params' && v !== undefined) (options as Record<string, unknown>)[k] = v;
      checkFinite(options.lr, `params[${gi}].lr`);
      spec.params.forEach((p, i) => {
        if (!(p instanceof Tensor)) throw expected('a Tensor', `params[${gi}].params[${i}]`, p);
        if (!p.requiresGrad) throw expected('a parameter with requiresGrad set', `params[${gi}].params[${i}]`, p.toString());
        if (seen.has(p)) throw expected('each parameter in one group only', `params[${gi}].params[${i}]`, p.toString());
        seen.add(p);
      });
      return { params: spec.params, options, baseLr: options.lr };
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) native().setGrad(p.handle, null);
  }

  /** Sets each group's learning rate to its base rate times `factor` (learning-rate schedules call this). */
  setLrFactor(factor: number): void {
    checkFinite(factor, 'factor');
    for (const g of this.groups) g.options.lr = g.baseLr * factor;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount += 1;
    for (const g of this.groups) {
      for (const p of g.params) {
        const grad = native().grad(p.handle);
        if (!grad) continue;
        try {
          this.update(p, grad, g.options);
        } finally {
          native().dispose(grad); // this handle only; the parameter keeps its gradient
        }
      }
    }
  }

  protected abstract update(param: Tensor, grad: import('../../native/addon.js').NativeTensor, options: H): void;

  /** A zero state tensor shaped like the parameter, kept out of tidy() scopes. */
  protected stateLike(p: Tensor): Tensor {
    return keep(new Tensor(native().zeros(p.shape, p.dtype, p.device))); // on the parameter's device
  }

  /** Everything needed to resume: step count and named state tensors per parameter index. */
  abstract state(): { stepCount: number; tensors: Record<string, Tensor> };
  abstract loadState(state: { stepCount: number; tensors: Record<string, Tensor> }): void;

  protected allParams(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }
}
