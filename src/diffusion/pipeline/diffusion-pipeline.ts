// diffusion-pipeline.ts: text-to-image (and image-to-image) as a Generator: tokenizer + text encoder
// -> text states; seeded noise -> UNet + scheduler with classifier-free guidance -> latents; VAE
// decode -> 8-bit RGB. Data strategies and evaluation use it in place of the world renderer.
import { noGrad } from '../../api/autograd.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { checkFinite, checkInt } from '../../api/validate.js';
import type { GenerateOptions, Generator, RgbImage } from '../../api/interfaces.js';
import { expected } from '../../native/errors.js';
import { checkStrength, sampleLatents } from '../sampling/sample-latents.js';
import { createScheduler } from '../schedulers/index.js';
import { parseSchedulerConfig, type SchedulerConfig, type SchedulerConfigInput } from '../schedulers/scheduler-config.js';
import type { DiffusionModels } from '../types.js';
import { imagesToPixels, pixelsToImages } from './rgb-images.js';

export interface PipelineSettings {
  /** The Generator's name. Defaults to "diffusion". */
  name?: string;
  scheduler: SchedulerConfigInput;
  /** Output size in pixels (height and width). */
  size: number;
  /** Defaults to 20. */
  steps?: number;
  /** Defaults to 7.5. */
  guidanceScale?: number;
  /** The unconditional prompt of classifier-free guidance. Defaults to "". */
  negativePrompt?: string;
  /** Images denoised together (memory bound); results do not depend on it. Defaults to 8. */
  batchSize?: number;
}

export interface PipelineProgress {
  /** Image-steps done (a step on a batch of n images counts n) over all batches. */
  done: number;
  total: number;
}

/** GenerateOptions plus the diffusion knobs. `quality` and `degrade` (renderer knobs) are ignored. */
export interface DiffusionGenerateOptions extends GenerateOptions {
  guidanceScale?: number;
  negativePrompt?: string;
  /** Overrides of the scheduler config for this call (kind, eta, ...). */
  scheduler?: Partial<SchedulerConfigInput>;
  onProgress?: (progress: PipelineProgress) => void;
}

export interface ImageToImageOptions extends DiffusionGenerateOptions {
  /** How far up the noise schedule the input goes: 0 returns it (through the VAE), 1 ignores it. Defaults to 0.8. */
  strength?: number;
}

export class DiffusionPipeline implements Generator {
  readonly name: string;
  readonly models: DiffusionModels;
  readonly scheduler: SchedulerConfig;
  readonly size: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly negativePrompt: string;
  readonly batchSize: number;

  constructor(models: DiffusionModels, settings: PipelineSettings) {
    this.models = models;
    this.name = settings.name ?? 'diffusion';
    this.scheduler = parseSchedulerConfig(settings.scheduler);
    this.steps = checkInt(settings.steps ?? 20, 'steps', 1);
    this.guidanceScale = checkFinite(settings.guidanceScale ?? 7.5, 'guidanceScale');
    this.negativePrompt = settings.negativePrompt ?? '';
    this.batchSize = checkInt(settings.batchSize ?? 8, 'batchSize', 1);
    this.size = this.#checkSize(settings.size, 'size');
  }

  /** Text states (B, M, D) of prompts, without gradient. */
  encodePrompts(prompts: string[]): Tensor {
    return noGrad(() => tidy(() => this.models.textEncoder.encode(this.models.tokenizer.tokenize(prompts))));
  }

  async generate(prompts: string[], seeds: number[], options: DiffusionGenerateOptions = {}): Promise<RgbImage[]> {
    return this.#run(prompts, seeds, options, null);
  }

  /** Image-to-image: each image is encoded, noised `strength` of the way and denoised under its prompt. */
  async imageToImage(images: RgbImage[], prompts: string[], seeds: number[], options: ImageToImageOptions = {}): Promise<RgbImage[]> {
    if (!Array.isArray(images) || images.length !== prompts.length) throw expected(`${prompts.length} images (one per prompt)`, 'images', images);
    const strength = checkStrength(options.strength ?? 0.8);
    return this.#run(prompts, seeds, options, { images, strength });
  }

  /** Scaled latents (B, C, h, w) -> pixels (B, 3, H, W) in about [-1, 1]. */
  decodeLatents(latents: Tensor): Tensor {
    const vae = this.models.vae;
    return noGrad(() => tidy(() => vae.decode(latents.div(vae.scalingFactor))));
  }

  /** Pixels (B, 3, H, W) -> scaled latents: the posterior's mean times the scaling factor. */
  encodePixels(pixels: Tensor): Tensor {
    const vae = this.models.vae;
    return noGrad(() => tidy(() => vae.encode(pixels).slice(1, 0, vae.latentChannels).mul(vae.scalingFactor)));
  }

  async #run(prompts: string[], seeds: number[], options: DiffusionGenerateOptions, init: { images: RgbImage[]; strength: number } | null): Promise<RgbImage[]> {
    if (!Array.isArray(prompts) || prompts.some((p) => typeof p !== 'string')) throw expected('an array of strings', 'prompts', prompts);
    if (!Array.isArray(seeds) || seeds.length !== prompts.length) throw expected(`${prompts.length} seeds (one per prompt)`, 'seeds', seeds);
    seeds.forEach((s, i) => checkInt(s, `seeds[${i}]`, 0));
    const steps = checkInt(options.steps ?? this.steps, 'options.steps', 1);
    const scale = checkFinite(options.guidanceScale ?? this.guidanceScale, 'options.guidanceScale');
    const size = options.size === undefined ? this.size : this.#checkSize(options.size, 'options.size');
    const negative = options.negativePrompt ?? this.negativePrompt;
    const schedulerConfig = parseSchedulerConfig({ ...this.scheduler, ...options.scheduler }, 'options.scheduler');
    const { vae, unet } = this.models;
    const latent = size / vae.downFactor;
    const perBatch = init ? Math.min(steps, Math.floor(steps * init.strength)) : steps;
    const total = perBatch * prompts.length;
    let done = 0;
    const out: RgbImage[] = [];
    for (let at = 0; at < prompts.length; at += this.batchSize) {
      const batchPrompts = prompts.slice(at, at + this.batchSize), batchSeeds = seeds.slice(at, at + this.batchSize);
      const n = batchPrompts.length;
      const cond = this.encodePrompts(batchPrompts);
      const uncond = scale === 1 ? null : this.encodePrompts(batchPrompts.map(() => negative));
      const initLatents = init ? this.#initLatents(init.images.slice(at, at + n), size) : null;
      try {
        const latents = await sampleLatents({
          unet, scheduler: createScheduler(schedulerConfig), cond, uncond, guidanceScale: scale, seeds: batchSeeds,
          latentShape: [vae.latentChannels, latent, latent], steps,
          init: initLatents && init ? { latents: initLatents, strength: init.strength } : undefined,
          signal: options.signal,
          onStep: () => options.onProgress?.({ done: (done += n), total }),
        });
        const pixels = this.decodeLatents(latents);
        latents.dispose();
        out.push(...pixelsToImages(pixels));
        pixels.dispose();
      } finally {
        cond.dispose();
        uncond?.dispose();
        initLatents?.dispose();
      }
    }
    return out;
  }

  #initLatents(images: RgbImage[], size: number): Tensor {
    images.forEach((img, i) => {
      if (img.width !== size || img.height !== size) throw expected(`a ${size}x${size} image (options.size)`, `images[${i}]`, `${img.width}x${img.height}`);
    });
    const pixels = imagesToPixels(images);
    const z = this.encodePixels(pixels);
    pixels.dispose();
    return z;
  }

  #checkSize(size: unknown, name: string): number {
    const multiple = this.models.vae.downFactor * (this.models.unet.downFactor ?? 1);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < multiple || size % multiple !== 0) {
      throw expected(`a positive multiple of ${multiple} (the VAE's and the UNet's downsampling)`, name, size);
    }
    return size;
  }
}
