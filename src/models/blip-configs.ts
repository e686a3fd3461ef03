// blip-configs.ts: the BLIP backbone's configuration (zod), in shared/peers/models.json's field names,
// its checks across fields, and the presets tiny / bench / sd15 copied from models.json (sd15 is
// ImageReward's BLIP: ViT-L/16 at 224 and BERT-base with cross-attention, 35 tokens).
import { z } from 'zod';

import { configError, parseConfig, presetOr } from './parse-config.js';

const positiveInt = z.int().min(1);

export const BlipConfigSchema = z.strictObject({
  /** Side of the square input images, in pixels. */
  image_size: positiveInt,
  vit: z.strictObject({
    width: positiveInt,
    depth: positiveInt,
    heads: positiveInt,
    /** Patch side; image_size must be a multiple of it. */
    patch: positiveInt,
    /** MLP width over width. */
    mlp_ratio: positiveInt,
  }),
  bert: z.strictObject({
    width: positiveInt,
    depth: positiveInt,
    heads: positiveInt,
    intermediate: positiveInt,
    vocab: positiveInt,
    max_position: positiveInt,
    /** Tokens per prompt (ImageReward pads to 35); informational: the model takes 1..max_position. */
    seq: positiveInt.optional(),
    /** The [PAD] id: its embedding row gets no gradient (nn.Embedding padding_idx). Defaults to 0. */
    pad_token_id: z.int().min(0).default(0),
  }),
});
export type BlipConfig = z.output<typeof BlipConfigSchema>;
export type BlipConfigInput = z.input<typeof BlipConfigSchema>;

/** models.json's BLIP sizes. */
export const BLIP_PRESETS = {
  tiny: {
    image_size: 32,
    vit: { width: 64, depth: 2, heads: 4, patch: 8, mlp_ratio: 4 },
    bert: { width: 64, depth: 2, heads: 4, intermediate: 256, vocab: 1000, max_position: 64, seq: 16 },
  },
  bench: {
    image_size: 64,
    vit: { width: 256, depth: 6, heads: 8, patch: 8, mlp_ratio: 4 },
    bert: { width: 256, depth: 6, heads: 8, intermediate: 1024, vocab: 1000, max_position: 64, seq: 32 },
  },
  sd15: {
    image_size: 224,
    vit: { width: 1024, depth: 24, heads: 16, patch: 16, mlp_ratio: 4 },
    bert: { width: 768, depth: 12, heads: 12, intermediate: 3072, vocab: 30524, max_position: 512, seq: 35 },
  },
} as const satisfies Record<string, BlipConfigInput>;
export type BlipPresetName = keyof typeof BLIP_PRESETS;

/** Validates a BLIP config (a preset name or an object): fields, then the relations between them. */
export function parseBlipConfig(source: unknown): BlipConfig {
  const { value, name } = presetOr(BLIP_PRESETS, source, 'blip');
  const c = parseConfig(BlipConfigSchema, value, name);
  if (c.image_size % c.vit.patch !== 0) throw configError(`a multiple of ${name}.vit.patch (${c.vit.patch})`, `${name}.image_size`, c.image_size);
  if (c.vit.width % c.vit.heads !== 0) throw configError(`a multiple of ${name}.vit.heads (${c.vit.heads})`, `${name}.vit.width`, c.vit.width);
  if (c.bert.width % c.bert.heads !== 0) throw configError(`a multiple of ${name}.bert.heads (${c.bert.heads})`, `${name}.bert.width`, c.bert.width);
  if (c.bert.seq !== undefined && c.bert.seq > c.bert.max_position) {
    throw configError(`at most ${name}.bert.max_position (${c.bert.max_position})`, `${name}.bert.seq`, c.bert.seq);
  }
  if (c.bert.pad_token_id >= c.bert.vocab) throw configError(`an id below ${name}.bert.vocab (${c.bert.vocab})`, `${name}.bert.pad_token_id`, c.bert.pad_token_id);
  return c;
}

/** Image tokens the ViT produces: [CLS] + (image_size / patch)^2. */
export function blipImageTokens(c: BlipConfig): number {
  return (c.image_size / c.vit.patch) ** 2 + 1;
}
