// index.ts: training as library functions.
export { trainDiffusion, type DiffusionTrainingOptions } from './train-diffusion.js';
export { trainVae, type VaeTrainingOptions } from './train-vae.js';
export { runTraining, type TrainingOptions, type TrainingProgress, type TrainingResult, type TrainingTask } from './training-loop.js';
export { diffusionLoss, dropCaptions, uniformTimesteps, type DiffusionLossOptions } from './diffusion-loss.js';
export { laplacian, vaeLoss, type VaeLoss } from './vae-loss.js';
export { DataOrder, imageTextDataset, type DataPosition, type ImageTextBatch, type ImageTextDataset } from './image-text-data.js';
export {
  CHECKPOINT_FORMAT, latestTrainingCheckpoint, listTrainingCheckpoints, loadTrainingCheckpoint, readCheckpointState, saveTrainingCheckpoint,
  trainableParameters, type CheckpointState,
} from './train-checkpoint.js';
