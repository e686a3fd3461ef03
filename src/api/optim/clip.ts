// clip.ts: gradient clipping by global norm (as torch.nn.utils.clip_grad_norm_).
import { native } from '../../native/addon.js';
import { Tensor } from '../tensor.js';
import { checkFinite } from '../validate.js';

/** Scales all gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  checkFinite(maxNorm, 'maxNorm');
  const grads = params.map((p) => native().grad(p.handle)).filter((g) => g !== null);
  let total = 0;
  for (const g of grads) total += native().sumOfSquares(g!);
  const norm = Math.sqrt(total);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (const g of grads) native().mulScalarInplace(g!, scale);
  for (const g of grads) native().dispose(g!);
  return norm;
}
