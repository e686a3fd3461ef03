// guidance.ts: classifier-free guidance (Ho & Salimans 2022): one model call on the unconditional
// and conditional halves of a doubled batch, then eps = eps_u + s (eps_c - eps_u). A scale of 1 is
// the conditional model alone, and runs it alone.
import { full } from '../../api/create.js';
import { F } from '../../api/index.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { checkFinite } from '../../api/validate.js';
import { expected } from '../../native/errors.js';
import type { NoisePredictor } from '../types.js';

/** The guided model output at x (B, C, h, w), timestep t, text states cond and uncond (B, M, D). */
export function guidedOutput(unet: NoisePredictor, x: Tensor, t: number, cond: Tensor, uncond: Tensor | null, scale: number): Tensor {
  checkFinite(scale, 'guidanceScale');
  const B = x.shape[0];
  return tidy(() => {
    if (scale === 1 || uncond === null) {
      if (scale !== 1) throw expected('unconditional text states for a guidance scale other than 1', 'uncond', uncond);
      return unet.forward(x, full([B], t), cond);
    }
    const out = unet.forward(F.concat([x, x], 0), full([2 * B], t), F.concat([uncond, cond], 0));
    const [epsU, epsC] = out.split(B, 0);
    // eps = eps_u + s (eps_c - eps_u)
    return epsU.add(epsC.sub(epsU).mul(scale));
  });
}
