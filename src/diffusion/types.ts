// types.ts: the small interfaces the diffusion code needs from its models, so schedulers, sampling,
// the pipeline and the training loops work with the native UNet / AutoencoderKL / CLIP (through the
// adapters in pipeline/components.ts) and with the stand-ins in tiny/ alike.
// Shapes: latents and images (B, C, h, w); timesteps (B) float32; text states (B, M, D).
import type { Device } from '../api/dtype.js';
import type { Tensor } from '../api/tensor.js';

/** Something with named parameters (optimizers update them in place; checkpoints save them by name). */
export interface ParameterHolder {
  parameters(): Map<string, Tensor>;
  /** Moves the parameters to a device (the native models and their pipeline adapters have it). */
  to?(device: Device): unknown;
}

/** The denoiser eps_theta(x_t, t, c): a UNet2DConditionModel or a stand-in. */
export interface NoisePredictor extends ParameterHolder {
  /**
   * x (B, C, h, w), t (B) float32 timesteps, ctx (B, M, D) -> (B, C, h, w): the noise, the velocity or x0,
   * as the scheduler's predictionType says.
   */
  forward(x: Tensor, t: Tensor, ctx: Tensor): Tensor;
  /** Latent height and width must be multiples of this. Defaults to 1. */
  readonly downFactor?: number;
}

/** The image <-> latent autoencoder (AutoencoderKL or a stand-in). Latents as the UNet sees them are scaled by scalingFactor. */
export interface LatentCodec extends ParameterHolder {
  readonly latentChannels: number;
  /** Pixels per latent along each side. */
  readonly downFactor: number;
  /** SD1.5: 0.18215. */
  readonly scalingFactor: number;
  /** pixels (B, 3, H, W) in about [-1, 1] -> the posterior's moments (B, 2 * latentChannels, H / f, W / f) = [mean, logvar]. */
  encode(pixels: Tensor): Tensor;
  /** Unscaled latents (B, latentChannels, h, w) -> pixels (B, 3, h * f, w * f) in about [-1, 1]. */
  decode(latents: Tensor): Tensor;
}

/** Prompts -> token ids (B, T) int32, padded to one length. The empty prompt is the unconditional one. */
export interface PromptTokenizer {
  tokenize(prompts: string[]): Tensor;
}

/** Token ids (B, T) int32 -> hidden states (B, T, D) for cross-attention (CLIP's last_hidden_state). */
export interface TextEncoder extends ParameterHolder {
  encode(ids: Tensor): Tensor;
}

/** Everything a text-to-image diffusion model is made of, besides its scheduler. */
export interface DiffusionModels {
  tokenizer: PromptTokenizer;
  textEncoder: TextEncoder;
  unet: NoisePredictor;
  vae: LatentCodec;
}
