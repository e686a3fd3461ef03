// vae.ts: AutoencoderKL, the typed handle to the native VAE (diffusers' parameter names): encode to the
// posterior's moments, sample or take the mode, decode unscaled latents; all differentiable (ReFL decodes
// with gradient).
import { Rng } from '../api/create.js';
import { NativeModel } from '../api/model.js';
import { Tensor } from '../api/tensor.js';
import { expected } from '../native/errors.js';
import { parseVaeConfig, pickConfig, type DiffusionPresetName, type VaeConfig, type VaeConfigInput } from './configs.js';
import { requireFeatureMap } from './model-inputs.js';

export interface VaeCallOptions {
  /** Recompute each resnet and attention in backward instead of keeping its activations. Defaults to false. */
  checkpointing?: boolean;
}

export class AutoencoderKL extends NativeModel {
  readonly config: VaeConfig;

  /** Builds a VAE with seeded PyTorch-default weights. */
  constructor(config: VaeConfigInput, seed = 0) {
    const c = parseVaeConfig(config);
    super('vae', c, seed);
    this.config = c;
  }

  /** A preset ("tiny", "bench", "sd15"), a models.json-shaped entry ({ vae, ... }) or a VAE config. */
  static fromConfig(source: DiffusionPresetName | object, seed = 0): AutoencoderKL {
    const { value, name } = pickConfig(source, 'vae');
    return new AutoencoderKL(parseVaeConfig(value, name), seed);
  }

  /** Pixels per latent along each side. */
  get downFactor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  get scalingFactor(): number {
    return this.config.scaling_factor;
  }

  /** image (B, in_channels, H, W), about [-1, 1] -> moments (B, 2 * latent_channels, H / f, W / f) = [mean, logvar]. */
  encode(image: Tensor, options: VaeCallOptions = {}): Tensor {
    const c = this.config;
    const x = requireFeatureMap(image, 'image', c.in_channels, this.downFactor, `[B, ${c.in_channels}, H, W]`);
    return this.call('encode', [x], { checkpointing: checkpointingOption(options) })[0];
  }

  /** Unscaled latents (B, latent_channels, h, w) (divide the UNet's by scalingFactor first) -> image (B, in_channels, h * f, w * f). */
  decode(latents: Tensor, options: VaeCallOptions = {}): Tensor {
    const c = this.config;
    const z = requireFeatureMap(latents, 'latents', c.latent_channels, 1, `[B, ${c.latent_channels}, h, w]`);
    return this.call('decode', [z], { checkpointing: checkpointingOption(options) })[0];
  }

  /** A differentiable sample of the diagonal Gaussian posterior: mean + exp(logvar / 2) * noise, logvar clamped to [-30, 20]. */
  sample(moments: Tensor, rng: Rng): Tensor {
    if (!(rng instanceof Rng)) throw expected('an Rng', 'rng', rng);
    const { mean, logvar } = this.#split(moments);
    const std = logvar.clamp(-30, 20).mul(0.5).exp();
    const noise = rng.randn(mean.shape, { device: mean.device });  // the same draw on either device
    const z = mean.add(std.mul(noise));
    for (const t of [mean, logvar, std, noise]) t.dispose();
    return z;
  }

  /** The posterior's mode: its mean (B, latent_channels, h, w). */
  mode(moments: Tensor): Tensor {
    const { mean, logvar } = this.#split(moments);
    logvar.dispose();
    return mean;
  }

  #split(moments: Tensor): { mean: Tensor; logvar: Tensor } {
    const z = this.config.latent_channels;
    const m = requireFeatureMap(moments, 'moments', 2 * z, 1, `[B, ${2 * z}, h, w]`);
    return { mean: m.slice(1, 0, z), logvar: m.slice(1, z, 2 * z) };
  }
}

function checkpointingOption(options: VaeCallOptions): boolean {
  const on = options.checkpointing ?? false;
  if (typeof on !== 'boolean') throw expected('a boolean', 'options.checkpointing', on);
  return on;
}
