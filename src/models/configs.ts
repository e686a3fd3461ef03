// configs.ts: the UNet and VAE configurations (zod) in models.json's field names, their checks across
// fields, and the named presets tiny / bench / sd15 (copied from shared/peers/models.json, so the package
// reads nothing outside itself at run time). Every failure reads `Expected <what> for <name> but received <value>`.
import { z } from 'zod';

import { configError, parseWithSchema } from '../api/zod-errors.js';


const positiveInt = z.int().min(1);

export const UNetConfigSchema = z.strictObject({
  /** Channels per level, shallowest first. */
  block_out_channels: z.array(positiveInt).min(1),
  /** Resnets per down level (the up levels have one more). */
  layers_per_block: positiveInt,
  /** Per level: a Transformer2DModel after each resnet (CrossAttnDownBlock2D / CrossAttnUpBlock2D). */
  cross_attn: z.array(z.boolean()),
  /** Heads at every level (diffusers' SD1.5 "attention_head_dim": 8 means 8 heads). One of heads, head_dim. */
  heads: positiveInt.optional(),
  /** Channels per head: heads = channels / head_dim per level. One of heads, head_dim. */
  head_dim: positiveInt.optional(),
  /** BasicTransformerBlocks per Transformer2DModel, one number or one per level (SDXL's). Defaults to 1. */
  transformer_layers_per_block: z.union([positiveInt, z.array(positiveInt)]).optional(),
  cross_attention_dim: positiveInt,
  norm_num_groups: positiveInt,
  in_channels: positiveInt,
  out_channels: positiveInt,
  /** Tokens of encoder_hidden_states in models.json (the model takes any length). */
  text_len: positiveInt.optional(),
});
export type UNetConfig = z.output<typeof UNetConfigSchema>;

export const VaeConfigSchema = z.strictObject({
  block_out_channels: z.array(positiveInt).min(1),
  /** Encoder resnets per level (the decoder has one more). */
  layers_per_block: positiveInt,
  norm_num_groups: positiveInt,
  /** Image channels. */
  in_channels: positiveInt,
  latent_channels: positiveInt,
  /** Latents the UNet sees are the posterior's sample times this. Defaults to SD1.5's 0.18215. */
  scaling_factor: z.number().positive().default(0.18215),
});
export type VaeConfig = z.output<typeof VaeConfigSchema>;
export type VaeConfigInput = z.input<typeof VaeConfigSchema>;

/** A models.json entry, as far as the diffusion models read it. */
export interface DiffusionPreset {
  /** Latent height and width. */
  latent_size: number;
  unet: UNetConfig;
  vae: VaeConfigInput;
}

/** models.json's tiny (correctness tests), bench (CPU benchmark) and sd15 (Stable Diffusion 1.5) sizes. */
export const DIFFUSION_PRESETS = {
  tiny: {
    latent_size: 8,
    unet: { block_out_channels: [32, 64], layers_per_block: 1, cross_attn: [true, true], heads: 4,
            cross_attention_dim: 32, norm_num_groups: 8, in_channels: 4, out_channels: 4, text_len: 8 },
    vae: { block_out_channels: [32, 64], layers_per_block: 1, norm_num_groups: 8, in_channels: 3,
           latent_channels: 4, scaling_factor: 0.18215 },
  },
  bench: {
    latent_size: 16,
    unet: { block_out_channels: [64, 128, 128], layers_per_block: 2, cross_attn: [true, true, false], head_dim: 32,
            cross_attention_dim: 128, norm_num_groups: 32, in_channels: 4, out_channels: 4, text_len: 16 },
    vae: { block_out_channels: [64, 128, 128], layers_per_block: 2, norm_num_groups: 32, in_channels: 3,
           latent_channels: 4, scaling_factor: 0.18215 },
  },
  sd15: {
    latent_size: 64,
    unet: { block_out_channels: [320, 640, 1280, 1280], layers_per_block: 2, cross_attn: [true, true, true, false], heads: 8,
            cross_attention_dim: 768, norm_num_groups: 32, in_channels: 4, out_channels: 4, text_len: 77 },
    vae: { block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, in_channels: 3,
           latent_channels: 4, scaling_factor: 0.18215 },
  },
} as const satisfies Record<string, DiffusionPreset>;
export type DiffusionPresetName = keyof typeof DIFFUSION_PRESETS;

const parse = parseWithSchema;

function checkGroups(channels: readonly number[], groups: number, name: string): void {
  channels.forEach((ch, i) => {
    if (ch % groups !== 0) throw configError(`channels divisible by ${name}.norm_num_groups (${groups})`, `${name}.block_out_channels[${i}]`, ch);
  });
}

/** Heads per level: `heads` at every level, or channels / `head_dim`. */
export function unetHeads(c: UNetConfig): number[] {
  return c.block_out_channels.map((ch) => (c.heads !== undefined ? c.heads : Math.floor(ch / (c.head_dim as number))));
}

/** Validates a UNet config (fields, then the relations between them). */
export function parseUNetConfig(value: unknown, name = 'config'): UNetConfig {
  const c = parse(UNetConfigSchema, value, name);
  const levels = c.block_out_channels.length;
  if (c.cross_attn.length !== levels) throw configError(`${levels} entries (one per level)`, `${name}.cross_attn`, c.cross_attn);
  if ((c.heads === undefined) === (c.head_dim === undefined)) {
    throw configError('exactly one of heads and head_dim', name, c.heads === undefined ? 'neither' : 'both');
  }
  checkGroups(c.block_out_channels, c.norm_num_groups, name);
  c.block_out_channels.forEach((ch, i) => {
    if (c.head_dim !== undefined && ch % c.head_dim !== 0) throw configError(`channels divisible by ${name}.head_dim (${c.head_dim})`, `${name}.block_out_channels[${i}]`, ch);
    if (c.heads !== undefined && ch % c.heads !== 0) throw configError(`channels divisible by ${name}.heads (${c.heads})`, `${name}.block_out_channels[${i}]`, ch);
  });
  const depth = c.transformer_layers_per_block;
  if (Array.isArray(depth) && depth.length !== levels) throw configError(`${levels} entries (one per level)`, `${name}.transformer_layers_per_block`, depth);
  return c;
}

/** Validates a VAE config; scaling_factor defaults to 0.18215. */
export function parseVaeConfig(value: unknown, name = 'config'): VaeConfig {
  const c = parse(VaeConfigSchema, value, name);
  checkGroups(c.block_out_channels, c.norm_num_groups, name);
  return c;
}

/**
 * The `part` ("unet" or "vae") config of: a preset name, a models.json-shaped entry ({ unet, vae, ... }),
 * or the part's config itself.
 */
export function pickConfig(source: unknown, part: 'unet' | 'vae'): { value: unknown; name: string } {
  if (typeof source === 'string') {
    if (!Object.hasOwn(DIFFUSION_PRESETS, source)) throw configError(`one of ${Object.keys(DIFFUSION_PRESETS).join(', ')}`, 'config', source);
    return { value: DIFFUSION_PRESETS[source as DiffusionPresetName][part], name: `${source}.${part}` };
  }
  if (source !== null && typeof source === 'object' && part in source) return { value: (source as Record<string, unknown>)[part], name: `config.${part}` };
  if (source === null || typeof source !== 'object') throw configError(`a preset name or a ${part} config object`, 'config', source);
  return { value: source, name: 'config' };
}
