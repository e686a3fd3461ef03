// vae-loss.ts: the autoencoder's loss, reconstruction plus a KL term toward N(0, I) (Kingma & Welling
// 2014; the KL-regularised autoencoder of latent diffusion):
//   z = mean + exp(logvar / 2) eps,  x_hat = D(z)
//   L = mean (x_hat - x)^2 + beta * 1/2 mean(mean^2 + exp(logvar) - 1 - logvar)
// Both terms are means per element (pixel or latent), so beta weighs them directly.
import type { Rng } from '../../api/create.js';
import { F } from '../../api/index.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { klToStandardNormal, splitMoments } from '../latent-posterior.js';
import type { LatentCodec } from '../types.js';

export interface VaeLoss {
  loss: Tensor;
  reconstruction: Tensor;
  kl: Tensor;
}

export function vaeLoss(vae: LatentCodec, pixels: Tensor, rng: Rng, beta: number): VaeLoss {
  return tidy(() => {
    // q(z | x) = N(mean, exp(logvar))
    const { mean, logvar } = splitMoments(vae.encode(pixels));
    // z = mean + exp(logvar / 2) eps (reparametrised), x_hat = D(z)
    const z = mean.add(logvar.mul(0.5).exp().mul(rng.randn(mean.shape)));
    const reconstruction = F.mseLoss(vae.decode(z), pixels);
    // KL(q(z | x) || N(0, I))
    const kl = klToStandardNormal(mean, logvar);
    return { loss: reconstruction.add(kl.mul(beta)), reconstruction, kl };
  });
}
