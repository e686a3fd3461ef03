// train-vae.ts: trains the autoencoder with reconstruction + beta KL (vae-loss.ts) on images.
import { checkFinite } from '../../api/validate.js';
import { expected } from '../../native/errors.js';
import type { LatentCodec } from '../types.js';
import type { ImageTextDataset } from './image-text-data.js';
import { runTraining, type TrainingOptions, type TrainingResult } from './training-loop.js';
import { vaeLoss } from './vae-loss.js';

export interface VaeTrainingOptions extends TrainingOptions {
  /** The KL term's weight beta. Defaults to 1e-6. */
  klWeight?: number;
}

export async function trainVae(vae: LatentCodec, dataset: ImageTextDataset, options: VaeTrainingOptions): Promise<TrainingResult> {
  const beta = checkFinite(options.klWeight ?? 1e-6, 'options.klWeight');
  if (beta < 0) throw expected('a number >= 0', 'options.klWeight', beta);
  return runTraining({
    name: 'vae',
    trainable: { vae },
    loss: (batch, rng) => {
      const { loss, reconstruction, kl } = vaeLoss(vae, batch.pixels, rng, beta);
      return { loss, parts: { reconstruction, kl } };
    },
  }, dataset, options);
}
