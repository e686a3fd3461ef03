// identity-vae.ts: a stand-in autoencoder with no parameters: the latents are the pixels (3 channels,
// no downsampling, scaling factor 1) and the posterior is a point mass (logvar -30). It lets the
// sampler and the pipeline be tested on what they alone do.
import { full } from '../../api/create.js';
import { F } from '../../api/index.js';
import type { Tensor } from '../../api/tensor.js';
import type { LatentCodec } from '../types.js';

export class IdentityVae implements LatentCodec {
  readonly latentChannels = 3;
  readonly downFactor = 1;
  readonly scalingFactor = 1;

  parameters(): Map<string, Tensor> {
    return new Map();
  }

  encode(pixels: Tensor): Tensor {
    const logvar = full(pixels.shape, -30);
    const out = F.concat([pixels, logvar], 1);
    logvar.dispose();
    return out;
  }

  decode(latents: Tensor): Tensor {
    return latents.clone();
  }
}
