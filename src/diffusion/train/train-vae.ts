// train-vae.ts: trains the autoencoder with reconstruction + beta KL (+ gamma high-frequency L1; vae-loss.ts) on images.
import { checkFinite } from '../../api/validate.js';
import { expected } from '../../native/errors.js';
import type { Tensor } from '../../api/tensor.js';
import type { LatentCodec } from '../types.js';
import type { ImageTextDataset } from './image-text-data.js';
import { runTraining, type TrainingOptions, type TrainingResult } from './training-loop.js';
import { vaeLoss } from './vae-loss.js';

export interface VaeTrainingOptions extends TrainingOptions {
  /** The KL term's weight beta. Defaults to 1e-6. */
  klWeight?: number;
  /** The high-frequency term's weight gamma (vae-loss.ts). Defaults to 0 (off). */
  highFrequencyWeight?: number;
}

export async function trainVae(vae: LatentCodec, dataset: ImageTextDataset, options: VaeTrainingOptions): Promise<TrainingResult> {
  const beta = checkFinite(options.klWeight ?? 1e-6, 'options.klWeight');
  if (beta < 0) throw expected('a number >= 0', 'options.klWeight', beta);
  const gamma = checkFinite(options.highFrequencyWeight ?? 0, 'options.highFrequencyWeight');
  if (gamma < 0) throw expected('a number >= 0', 'options.highFrequencyWeight', gamma);
  return runTraining({
    name: 'vae',
    trainable: { vae },
    loss: (batch, rng) => {
      const { loss, reconstruction, kl, highFrequency } = vaeLoss(vae, batch.pixels, rng, beta, gamma);
      const parts: Record<string, Tensor> = { reconstruction, kl };
      if (highFrequency) parts.highFrequency = highFrequency;
      return { loss, parts };
    },
  }, dataset, options);
}
