// index.ts: diffusion: schedulers, sampling, the pipeline as a Generator, model directories, training.
export * from './schedulers/index.js';
export type { DiffusionModels, LatentCodec, NoisePredictor, ParameterHolder, PromptTokenizer, TextEncoder } from './types.js';
export { ABORTED_CODE, DIVERGED_CODE } from './run-errors.js';
export { posteriorMode, posteriorSample, klToStandardNormal, splitMoments } from './latent-posterior.js';
export { guidedOutput } from './sampling/guidance.js';
export { ImageNoise } from './sampling/image-noise.js';
export { sampleLatents, type LatentSampling, type SamplingProgress } from './sampling/sample-latents.js';
export { DiffusionPipeline, type DiffusionGenerateOptions, type ImageToImageOptions, type PipelineProgress, type PipelineSettings } from './pipeline/diffusion-pipeline.js';
export {
  buildDiffusionModel, copyParameters, loadDiffusionModel, loadPipeline, saveDiffusionModel, MODEL_FORMAT, MODEL_INDEX_FILE,
  type DiffusionModel, type DiffusionModelSpec,
} from './pipeline/model-dir.js';
export {
  buildComponent, ClipTextStates, COMPONENT_ROLES, componentKinds, KlCodec, registerComponentKind, TokenizerIds,
  type BuildContext, type BuiltComponent, type ComponentRole, type ComponentSpec,
} from './pipeline/components.js';
export { imageGrid, imagesToPixels, pixelsToImages, readImage, writePng } from './pipeline/rgb-images.js';
export { IdentityVae } from './tiny/identity-vae.js';
export { TinyTextEncoder } from './tiny/tiny-text-encoder.js';
export { WordHashTokenizer } from './tiny/word-hash-tokenizer.js';
export * from './train/index.js';
