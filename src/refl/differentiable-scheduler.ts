// differentiable-scheduler.ts: a scheduler whose steps pass gradient on every path, for the steps
// ReFL and DRaFT-K take with gradient. The engine's Tensor.clone() records no graph, and the
// schedulers' predEpsilon (epsilon prediction) and predOriginalSample (x0 prediction) return a clone of
// the model output, so a step's eps path would be cut from the UNet. This instance returns a recorded
// copy (x * 1) there instead; everything else is the library's scheduler. (DPM-Solver++ still keeps
// its previous x0 as a clone: its second-order term passes no gradient to the earlier step.)
import type { Tensor } from '../api/tensor.js';
import type { Scheduler, Timestep } from '../diffusion/schedulers/scheduler.js';

/** The same scheduler, with the model-output passthroughs recorded by autograd. */
export function differentiableScheduler<S extends Scheduler>(scheduler: S): S {
  const type = scheduler.config.predictionType;
  const predEpsilon = scheduler.predEpsilon.bind(scheduler);
  const predOriginalSample = scheduler.predOriginalSample.bind(scheduler);
  scheduler.predEpsilon = (sample: Tensor, modelOutput: Tensor, t: Timestep) => (type === 'epsilon' ? modelOutput.mul(1) : predEpsilon(sample, modelOutput, t));
  scheduler.predOriginalSample = (sample: Tensor, modelOutput: Tensor, t: Timestep) => (type === 'sample' ? modelOutput.mul(1) : predOriginalSample(sample, modelOutput, t));
  return scheduler;
}
