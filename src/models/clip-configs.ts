// clip-configs.ts: CLIP's text and vision tower configurations (zod) in HF's CLIPTextConfig /
// CLIPVisionConfig field names, and the presets: tiny (tests), sd15 (Stable Diffusion 1.5's text
// encoder: openai/clip-vit-large-patch14's text tower, CLIPTextModel) and vit-l-14 (the whole CLIP
// ViT-L/14 for CLIP score). projection_dim > 0 adds text_projection / visual_projection (no bias).
import { z } from 'zod';

import { configError, parseConfig, presetOr } from './parse-config.js';

const positiveInt = z.int().min(1);

const towerFields = {
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  intermediate_size: positiveInt,
  /** "quick_gelu" (OpenAI CLIP, SD1.5; the default) or "gelu" (OpenCLIP). */
  hidden_act: z.enum(['quick_gelu', 'gelu']).default('quick_gelu'),
  /** Defaults to 1e-5. */
  layer_norm_eps: z.number().positive().default(1e-5),
  /** Width of text_projection / visual_projection; 0 (the default) for none, as CLIPTextModel. */
  projection_dim: z.int().min(0).default(0),
};

export const ClipTextConfigSchema = z.strictObject({
  vocab_size: positiveInt,
  /** 77 for SD. */
  max_position_embeddings: positiveInt,
  /** Pooling position: the first eos_token_id in each row; unset: the first argmax of the ids (OpenAI CLIP's EOT, 49407, is the largest id). */
  eos_token_id: z.int().min(0).optional(),
  ...towerFields,
});
export type ClipTextConfig = z.output<typeof ClipTextConfigSchema>;
export type ClipTextConfigInput = z.input<typeof ClipTextConfigSchema>;

export const ClipVisionConfigSchema = z.strictObject({
  image_size: positiveInt,
  patch_size: positiveInt,
  ...towerFields,
});
export type ClipVisionConfig = z.output<typeof ClipVisionConfigSchema>;
export type ClipVisionConfigInput = z.input<typeof ClipVisionConfigSchema>;

const SD15_TEXT = {
  vocab_size: 49408, max_position_embeddings: 77, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12,
  intermediate_size: 3072, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
} as const;
const TINY_TEXT = {
  vocab_size: 1000, max_position_embeddings: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64,
} as const;
const TINY_VISION = { image_size: 16, patch_size: 4, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 } as const;

export const CLIP_TEXT_PRESETS = { tiny: TINY_TEXT, sd15: SD15_TEXT } as const satisfies Record<string, ClipTextConfigInput>;
export type ClipTextPresetName = keyof typeof CLIP_TEXT_PRESETS;

export const CLIP_VISION_PRESETS = {
  tiny: TINY_VISION,
  'vit-l-14': { image_size: 224, patch_size: 14, hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096 },
} as const satisfies Record<string, ClipVisionConfigInput>;
export type ClipVisionPresetName = keyof typeof CLIP_VISION_PRESETS;

/** A whole CLIP (HF CLIPConfig): both towers and the shared projection width. */
export interface ClipConfigInput {
  text_config: ClipTextConfigInput;
  vision_config: ClipVisionConfigInput;
  projection_dim: number;
}

export const CLIP_PRESETS = {
  tiny: { text_config: TINY_TEXT, vision_config: TINY_VISION, projection_dim: 16 },
  'vit-l-14': { text_config: SD15_TEXT, vision_config: CLIP_VISION_PRESETS['vit-l-14'], projection_dim: 768 },
} as const satisfies Record<string, ClipConfigInput>;
export type ClipPresetName = keyof typeof CLIP_PRESETS;

function checkHeads(c: { hidden_size: number; num_attention_heads: number }, name: string): void {
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw configError(`a multiple of ${name}.num_attention_heads (${c.num_attention_heads})`, `${name}.hidden_size`, c.hidden_size);
  }
}

/** A preset name or a config object (named `label` in errors). */
export function parseClipTextConfig(source: unknown, label = 'config'): ClipTextConfig {
  const { value, name } = presetOr(CLIP_TEXT_PRESETS, source, 'clip text', label);
  const c = parseConfig(ClipTextConfigSchema, value, name);
  checkHeads(c, name);
  if (c.eos_token_id !== undefined && c.eos_token_id >= c.vocab_size) {
    throw configError(`an id below ${name}.vocab_size (${c.vocab_size})`, `${name}.eos_token_id`, c.eos_token_id);
  }
  return c;
}

/** A preset name or a config object (named `label` in errors). */
export function parseClipVisionConfig(source: unknown, label = 'config'): ClipVisionConfig {
  const { value, name } = presetOr(CLIP_VISION_PRESETS, source, 'clip vision', label);
  const c = parseConfig(ClipVisionConfigSchema, value, name);
  checkHeads(c, name);
  if (c.image_size % c.patch_size !== 0) throw configError(`a multiple of ${name}.patch_size (${c.patch_size})`, `${name}.image_size`, c.image_size);
  return c;
}

/** A CLIP config (preset name or object) -> the two towers' configs, each with the shared projection. */
export function parseClipConfig(source: unknown): { text: ClipTextConfig; vision: ClipVisionConfig } {
  const { value, name } = presetOr(CLIP_PRESETS, source, 'clip');
  const c = value as Partial<ClipConfigInput>;
  if (typeof c.projection_dim !== 'number' || !Number.isInteger(c.projection_dim) || c.projection_dim < 1) {
    throw configError('an integer >= 1', `${name}.projection_dim`, c.projection_dim);
  }
  return {
    text: parseClipTextConfig({ ...c.text_config, projection_dim: c.projection_dim }, `${name}.text_config`),
    vision: parseClipVisionConfig({ ...c.vision_config, projection_dim: c.projection_dim }, `${name}.vision_config`),
  };
}
