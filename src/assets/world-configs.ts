// world-configs.ts: the sizes of the world's pretrained encoders. 'world' is what assets/ ships:
// chosen so the BLIP and the CLIP together stay near 15 MB in float16 (assets/ holds at most 40 MB,
// the base generator and its fine-tune included) and so a step takes a few seconds on two shared
// cores; models.json's 'bench' BLIP (11.5 M parameters, 23 MB in float16, ~10 s a step at batch 32
// here) is kept as an option. 'tiny' is for tests.
import { BLIP_PRESETS, type BlipConfigInput } from '../models/blip-configs.js';
import type { ClipConfigInput } from '../models/clip-configs.js';
import { WORLD_TEXT_LENGTH } from './world-text.js';

/** The [SEP] id of the world's word tokenizer: CLIP's text tower pools there (its "end of text"). */
const WORD_SEP_ID = 2;

export const WORLD_BLIP_CONFIGS = {
  tiny: BLIP_PRESETS.tiny,
  world: {
    image_size: 64,
    vit: { width: 192, depth: 4, heads: 6, patch: 8, mlp_ratio: 4 },
    bert: { width: 192, depth: 4, heads: 6, intermediate: 768, vocab: 256, max_position: 64, seq: WORLD_TEXT_LENGTH },
  },
  bench: BLIP_PRESETS.bench,
} as const satisfies Record<string, BlipConfigInput>;
export type WorldBlipConfigName = keyof typeof WORLD_BLIP_CONFIGS;

export const WORLD_CLIP_CONFIGS = {
  tiny: {
    text_config: { vocab_size: 256, max_position_embeddings: WORLD_TEXT_LENGTH, eos_token_id: WORD_SEP_ID, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 },
    vision_config: { image_size: 32, patch_size: 8, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 },
    projection_dim: 32,
  },
  world: {
    text_config: { vocab_size: 256, max_position_embeddings: 64, eos_token_id: WORD_SEP_ID, hidden_size: 192, num_hidden_layers: 3, num_attention_heads: 6, intermediate_size: 768 },
    vision_config: { image_size: 64, patch_size: 8, hidden_size: 192, num_hidden_layers: 4, num_attention_heads: 6, intermediate_size: 768 },
    projection_dim: 192,
  },
} as const satisfies Record<string, ClipConfigInput>;
export type WorldClipConfigName = keyof typeof WORLD_CLIP_CONFIGS;
