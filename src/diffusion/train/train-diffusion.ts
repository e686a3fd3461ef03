// train-diffusion.ts: trains the UNet (and, optionally, the text encoder) with the diffusion loss of
// eq. 1 on (image, caption) pairs; the VAE stays frozen.
import { checkProbability } from '../../api/validate.js';
import { createScheduler } from '../schedulers/index.js';
import type { SchedulerConfigInput } from '../schedulers/scheduler-config.js';
import type { DiffusionModels, ParameterHolder } from '../types.js';
import { diffusionLoss } from './diffusion-loss.js';
import type { ImageTextDataset } from './image-text-data.js';
import { runTraining, type TrainingOptions, type TrainingResult } from './training-loop.js';

export interface DiffusionTrainingOptions extends TrainingOptions {
  /** The noise schedule and the prediction type (epsilon or v) the UNet learns. */
  scheduler: SchedulerConfigInput;
  /** Share of captions dropped to "" for classifier-free guidance. Defaults to 0.1. */
  captionDropRate?: number;
  /** Train the text encoder too. Defaults to false. */
  trainTextEncoder?: boolean;
  /** The text encoder's learning rate. Defaults to learningRate. */
  textEncoderLearningRate?: number;
}

export async function trainDiffusion(models: DiffusionModels, dataset: ImageTextDataset, options: DiffusionTrainingOptions): Promise<TrainingResult> {
  const scheduler = createScheduler(options.scheduler);
  const captionDropRate = checkProbability(options.captionDropRate ?? 0.1, 'options.captionDropRate');
  const trainTextEncoder = options.trainTextEncoder ?? false;
  const trainable: Record<string, ParameterHolder> = { unet: models.unet };
  if (trainTextEncoder) trainable.textEncoder = models.textEncoder;
  return runTraining({
    name: 'diffusion',
    trainable,
    learningRates: options.textEncoderLearningRate !== undefined ? { textEncoder: options.textEncoderLearningRate } : undefined,
    loss: (batch, rng) => ({ loss: diffusionLoss(models, scheduler, batch, rng, { captionDropRate, trainTextEncoder }) }),
  }, dataset, options);
}
