// generator-configs.ts: the sizes of the world's base generator (VAE + UNet + CLIP text encoder with
// the world's word tokenizer) and the model spec each one builds. 'tiny' is for tests (16 px
// images); 'world' is the size chosen for two shared cores: measured at load ~10 on them (ms per
// step, batch 16 / VAE batch 8): bench UNet ~13000, VAE ~20000 (batch 16); a [64, 96, 128] UNet
// ~2000; world's UNet ~900-1200 and its [16, 32, 64] VAE ~1000 at batch 4 (a [32, 64, 64] one
// ~1900). 'bench' is models.json's bench UNet and VAE with a 2-layer text encoder.
// A custom size is a JSON object (inline or a file) with any of { size, unet, vae, text } over a
// named base ("base": "world" unless given), and the sampling defaults' denoising steps.
import { existsSync, readFileSync } from 'node:fs';

import type { DiffusionModelSpec } from '../diffusion/pipeline/model-dir.js';
import type { SchedulerConfigInput } from '../diffusion/schedulers/scheduler-config.js';
import { DIFFUSION_PRESETS, type UNetConfig, type VaeConfigInput } from '../models/configs.js';
import { TreeRewardError } from '../native/errors.js';
import { WORLD_TEXT_LENGTH, worldWords } from './world-text.js';

/** The CLIP text tower's size; the vocabulary and positions come from the world's tokenizer. */
export interface GeneratorTextSize {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
}

export interface GeneratorConfig {
  /** Image height and width in pixels. */
  size: number;
  unet: UNetConfig;
  vae: VaeConfigInput;
  text: GeneratorTextSize;
  /** Denoising steps of the model's sampling defaults (the sample grids, the acceptance). Defaults to 20. */
  steps?: number;
  /** What the UNet predicts. Defaults to "v_prediction" (see generatorScheduler); the named configs state it. */
  prediction?: GeneratorPrediction;
}

export const GENERATOR_PREDICTIONS = ['v_prediction', 'epsilon'] as const;
export type GeneratorPrediction = (typeof GENERATOR_PREDICTIONS)[number];

/**
 * The noise schedule the UNet learns: DDPM's linear betas (1e-4 to 0.02) rather than SD1.5's scaled
 * linear ones, whose last timestep leaves too much signal at a 16x16 latent to start sampling from pure
 * noise. Sampling uses DDIM over the same schedule.
 *
 * The prediction is v (Salimans & Ho 2022), not eq. 1's epsilon: at this schedule's noisy end
 * (sqrt(abar) below 0.01) a small UNet's epsilon error is amplified a hundredfold into its x0 estimate,
 * and the first generator trained on epsilon (6000 steps) sampled latents of standard deviation 4.1
 * where its VAE's latents have 0.97: oversaturated images that no judge recognised
 * (`npx tsx bench/generator-diagnostics.ts --model DIR` prints both spreads; assets/README.md).
 * A v target stays on the data's scale at every timestep.
 */
export function generatorScheduler(prediction: GeneratorPrediction = 'v_prediction'): SchedulerConfigInput {
  return { kind: 'ddim', numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'linear', predictionType: prediction };
}

const bench = DIFFUSION_PRESETS.bench;

export const GENERATOR_CONFIGS = {
  tiny: {
    size: 16,
    unet: { ...DIFFUSION_PRESETS.tiny.unet, block_out_channels: [32, 64], cross_attn: [true, true] },
    vae: { ...DIFFUSION_PRESETS.tiny.vae, block_out_channels: [32, 64] },
    text: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64 },
    steps: 4,
    prediction: 'v_prediction',
  },
  world: {
    size: 64,
    unet: { block_out_channels: [32, 64, 64], layers_per_block: 1, cross_attn: [false, true, true], head_dim: 32,
            cross_attention_dim: 64, norm_num_groups: 16, in_channels: 4, out_channels: 4 },
    vae: { block_out_channels: [16, 32, 64], layers_per_block: 1, norm_num_groups: 8, in_channels: 3, latent_channels: 4 },
    text: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 },
    prediction: 'v_prediction',
  },
  bench: {
    size: 64,
    unet: { ...bench.unet, block_out_channels: [...bench.unet.block_out_channels], cross_attn: [...bench.unet.cross_attn] },
    vae: { ...bench.vae, block_out_channels: [...bench.vae.block_out_channels] },
    text: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 512 },
    prediction: 'v_prediction',
  },
} as const satisfies Record<string, GeneratorConfig>;
export type GeneratorConfigName = keyof typeof GENERATOR_CONFIGS;

const plainCopy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/**
 * A named config, or a custom one: a JSON object (inline, starting with "{", or a file) with any of
 * size, unet, vae, text over "base" (a config name, defaults to "world"); each part replaces the
 * base's part field by field.
 */
export function resolveGeneratorConfig(source: string): { name: string; config: GeneratorConfig } {
  if (Object.hasOwn(GENERATOR_CONFIGS, source)) return { name: source, config: plainCopy(GENERATOR_CONFIGS[source as GeneratorConfigName]) as GeneratorConfig };
  let text: string;
  if (source.trim().startsWith('{')) text = source;
  else if (existsSync(source)) text = readFileSync(source, 'utf8');
  else throw new TreeRewardError('INVALID_ARGUMENT', `Expected ${Object.keys(GENERATOR_CONFIGS).join(', ')}, a JSON object or a JSON file for --config but received ${JSON.stringify(source)}`);
  let custom: Record<string, unknown>;
  try {
    custom = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected JSON for --config but ${(e as Error).message}`);
  }
  if (custom === null || typeof custom !== 'object' || Array.isArray(custom)) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a JSON object for --config but received ${text.slice(0, 80)}`);
  const unknown = Object.keys(custom).filter((k) => !['base', 'size', 'unet', 'vae', 'text', 'steps', 'prediction'].includes(k));
  if (unknown.length) throw new TreeRewardError('INVALID_ARGUMENT', `Expected only base, size, unet, vae, text, steps and prediction in --config but received ${unknown.join(', ')}`);
  const baseName = (custom.base ?? 'world') as string;
  if (!Object.hasOwn(GENERATOR_CONFIGS, baseName)) throw new TreeRewardError('INVALID_ARGUMENT', `Expected one of ${Object.keys(GENERATOR_CONFIGS).join(', ')} for --config's base but received ${JSON.stringify(baseName)}`);
  const base = plainCopy(GENERATOR_CONFIGS[baseName as GeneratorConfigName]) as GeneratorConfig;
  const part = <T extends object>(key: string, b: T): T => ({ ...b, ...((custom[key] as object | undefined) ?? {}) });
  const config: GeneratorConfig = {
    size: (custom.size as number | undefined) ?? base.size,
    unet: part('unet', base.unet),
    vae: part('vae', base.vae),
    text: part('text', base.text),
    ...(custom.steps !== undefined || base.steps !== undefined ? { steps: (custom.steps ?? base.steps) as number } : {}),
    ...(custom.prediction !== undefined || base.prediction !== undefined ? { prediction: (custom.prediction ?? base.prediction) as GeneratorPrediction } : {}),
  };
  if (config.prediction !== undefined && !GENERATOR_PREDICTIONS.includes(config.prediction)) {
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected one of ${GENERATOR_PREDICTIONS.join(', ')} for --config's prediction but received ${JSON.stringify(config.prediction)}`);
  }
  if (!Number.isInteger(config.size) || config.size < 8) throw new TreeRewardError('INVALID_ARGUMENT', `Expected an integer of at least 8 for --config's size but received ${JSON.stringify(config.size)}`);
  return { name: 'custom', config };
}

/** The model spec of a config: the world's word tokenizer, a CLIP text model over it, the UNet, the VAE. */
export function generatorSpec(config: GeneratorConfig, options: { name?: string; scalingFactor?: number; guidanceScale?: number; steps?: number } = {}): DiffusionModelSpec {
  const words = worldWords();
  return {
    name: options.name ?? 'world-generator',
    tokenizer: { kind: 'word', config: { words, maxLength: WORLD_TEXT_LENGTH } },
    textEncoder: {
      kind: 'clip-text',
      config: { vocab_size: words.length + 4, max_position_embeddings: WORLD_TEXT_LENGTH, ...config.text },
    },
    unet: { kind: 'unet2d-condition', config: { ...config.unet, cross_attention_dim: config.text.hidden_size } },
    vae: { kind: 'autoencoder-kl', config: { ...config.vae, ...(options.scalingFactor !== undefined ? { scaling_factor: options.scalingFactor } : {}) } },
    scheduler: generatorScheduler(config.prediction),
    defaults: { size: config.size, steps: options.steps ?? config.steps ?? 20, guidanceScale: options.guidanceScale ?? 4, batchSize: 16 },
  };
}
