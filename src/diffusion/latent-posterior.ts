// latent-posterior.ts: the VAE's diagonal Gaussian posterior q(z | x) = N(mean, exp(logvar)) from its
// moments (B, 2C, h, w) = [mean, logvar]: a reparametrised sample, the mode, and the KL divergence to
// N(0, I). logvar is clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution does.
import type { Rng } from '../api/create.js';
import { tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { fmtShape } from '../api/validate.js';
import { TreeRewardError } from '../native/errors.js';

export function splitMoments(moments: Tensor): { mean: Tensor; logvar: Tensor } {
  const s = moments.shape;
  if (s.length !== 4 || s[1] % 2 !== 0) throw new TreeRewardError('SHAPE_MISMATCH', `Expected moments of shape [B, 2C, h, w] for moments but received ${fmtShape(s)}`);
  const c = s[1] / 2;
  return tidy(() => ({ mean: moments.slice(1, 0, c).contiguous(), logvar: moments.slice(1, c, 2 * c).clamp(-30, 20) }));
}

/** z = mean + exp(logvar / 2) * noise, noise from rng; differentiable in the moments. */
export function posteriorSample(moments: Tensor, rng: Rng): Tensor {
  return tidy(() => {
    const { mean, logvar } = splitMoments(moments);
    return mean.add(logvar.mul(0.5).exp().mul(rng.randn(mean.shape)));
  });
}

/** The posterior's mean. */
export function posteriorMode(moments: Tensor): Tensor {
  return tidy(() => splitMoments(moments).mean);
}

/** KL(q(z | x) || N(0, I)) per latent element, averaged: 1/2 mean(mean^2 + exp(logvar) - 1 - logvar). */
export function klToStandardNormal(mean: Tensor, logvar: Tensor): Tensor {
  return tidy(() => mean.pow(2).add(logvar.exp()).sub(1).sub(logvar).mean().mul(0.5));
}
