// blip.ts: name tables for BLIP-family checkpoints onto our models. Our BLIP backbone uses BLIP's
// own names (visual_encoder.* as timm's ViT, text_encoder.* as BERT with cross-attention), and a
// reward head is the native 'mlp' kind: Linear layers at layers.{0,2,4,...} (activations between).
//   ImageReward   blip.visual_encoder.* -> visual_encoder.*, blip.text_encoder.* -> text_encoder.*,
//                 mlp.layers.{0,2,4,6,7} -> head layers.{0,2,4,6,8} (its nn.Sequential: Linear,
//                 Dropout, Linear, Dropout, Linear, Dropout, Linear, Linear)
//   BLIP          model_*.pth's visual_encoder.* and text_encoder.* as they are; the momentum
//                 encoders, queues, projections, ITM head and decoder ignored
//   HF BLIP       transformers' BlipModel / BlipForImageTextRetrieval: vision_model.* -> visual_encoder.*
//   LAION aesthetic predictor   layers.{0,2,4,6,7} -> layers.{0,2,4,6,8}
import { NameTable, type Reshapable, type Renamed } from './rules.js';

const POSITION_IDS = /(^|\.)embeddings\.position_ids$/;

/** ImageReward.pt (side A) -> our backbone (names under "blip.") and head (under "head."). */
export const IMAGEREWARD_TABLE = new NameTable(
  [
    { a: 'blip.visual_encoder', b: 'blip.visual_encoder' },
    { a: 'blip.text_encoder', b: 'blip.text_encoder' },
    { a: 'mlp.layers.0', b: 'head.layers.0' }, { a: 'mlp.layers.2', b: 'head.layers.2' }, { a: 'mlp.layers.4', b: 'head.layers.4' },
    { a: 'mlp.layers.6', b: 'head.layers.6' }, { a: 'mlp.layers.7', b: 'head.layers.8' },
  ],
  { a: [/^blip\.(vision_proj|text_proj)\./, POSITION_IDS] },
);

/** A BLIP checkpoint's "model" dict (side A) -> our backbone (side B): the encoders kept, training-only parts ignored. */
export const BLIP_TABLE = new NameTable(
  [{ a: 'visual_encoder', b: 'visual_encoder' }, { a: 'text_encoder', b: 'text_encoder' }],
  { a: [/^(visual_encoder_m|text_encoder_m|vision_proj_m|text_proj_m|text_decoder|vision_proj|text_proj|itm_head)\./, /^(image_queue|text_queue|idx_queue|ptr_queue|temp)$/, POSITION_IDS] },
);

/** transformers' BLIP layout (side A) -> BLIP's own names (side B). */
export const HF_BLIP_TABLE = new NameTable(
  [
    { a: 'vision_model.embeddings.class_embedding', b: 'visual_encoder.cls_token' },
    { a: 'vision_model.embeddings.position_embedding', b: 'visual_encoder.pos_embed' },
    { a: 'vision_model.embeddings.patch_embedding', b: 'visual_encoder.patch_embed.proj' },
    {
      a: 'vision_model.encoder.layers.{n}', b: 'visual_encoder.blocks.{n}', strict: true,
      inner: [
        { a: 'self_attn.qkv', b: 'attn.qkv' }, { a: 'self_attn.projection', b: 'attn.proj' }, { a: 'layer_norm1', b: 'norm1' },
        { a: 'layer_norm2', b: 'norm2' }, { a: 'mlp.fc1', b: 'mlp.fc1' }, { a: 'mlp.fc2', b: 'mlp.fc2' },
      ],
    },
    { a: 'vision_model.post_layernorm', b: 'visual_encoder.norm' },
    { a: 'text_encoder', b: 'text_encoder' },
    { a: 'vision_proj', b: 'vision_proj' }, { a: 'text_proj', b: 'text_proj' }, { a: 'itm_head', b: 'itm_head' },
  ],
  { a: [POSITION_IDS], b: [POSITION_IDS] },
);

/** The LAION aesthetic predictor's MLP (side A) -> the native 'mlp' kind (side B). */
export const LAION_AESTHETIC_TABLE = new NameTable([
  { a: 'layers.0', b: 'layers.0' }, { a: 'layers.2', b: 'layers.2' }, { a: 'layers.4', b: 'layers.4' }, { a: 'layers.6', b: 'layers.6' }, { a: 'layers.7', b: 'layers.8' },
]);

type Entries<T> = Map<string, T> | Record<string, T>;

function split<T>(map: Map<string, T>, prefix: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const [n, v] of map) if (n.startsWith(prefix)) out.set(n.slice(prefix.length), v);
  return out;
}

/** An ImageReward state dict split into the BLIP backbone's names and the head's (native 'mlp' kind). */
export function imageRewardToNative<T extends Reshapable<T>>(map: Entries<T>): { blip: Map<string, T>; head: Map<string, T>; unknown: string[]; ignored: string[] } {
  const r = IMAGEREWARD_TABLE.apply(map, 'aToB');
  return { blip: split(r.map, 'blip.'), head: split(r.map, 'head.'), unknown: r.unknown, ignored: r.ignored };
}

/** A BLIP checkpoint's "model" dict to the backbone's names. */
export function blipToNative<T extends Reshapable<T>>(map: Entries<T>): Renamed<T> {
  return BLIP_TABLE.apply(map, 'aToB');
}

/** transformers' BLIP names to BLIP's (for model.safetensors from the Hub's Salesforce/blip-* repositories). */
export function hfBlipToBlip<T extends Reshapable<T>>(map: Entries<T>): Renamed<T> {
  return HF_BLIP_TABLE.apply(map, 'aToB');
}

export function aestheticToNative<T extends Reshapable<T>>(map: Entries<T>): Renamed<T> {
  return LAION_AESTHETIC_TABLE.apply(map, 'aToB');
}
