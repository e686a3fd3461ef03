// world-blip.ts: the BLIP backbone with the parts its pretraining objectives add, under BLIP's own
// names (model_base.pth): 'vision_proj' and 'text_proj' (the contrastive embeddings, on the ViT's
// [CLS] token and on the text encoder's text-mode [CLS]), 'itm_head' (image-text matching on the
// multimodal [CLS]) and 'temp' (the learnable contrastive temperature). The reward models use the
// backbone alone; the heads are kept so pretraining can resume and retrieval can be measured.
import { Rng, tensor, type Tensor } from '../api/index.js';
import { BlipBackbone } from '../models/blip.js';
import { native } from '../native/addon.js';
import type { BlipConfigInput, BlipPresetName } from '../models/blip-configs.js';
import { applyLinear, disposeAll, l2normalize, linearParams, scalarParam } from './linear-params.js';

/** BLIP's initial temperature; training keeps it in [TEMP_MIN, TEMP_MAX] as BLIP clamps it. */
export const INITIAL_TEMP = 0.07;
export const TEMP_MIN = 0.001;
export const TEMP_MAX = 0.5;

export class WorldBlip {
  readonly backbone: BlipBackbone;
  /** vision_proj, text_proj, itm_head (weight and bias) and temp. */
  readonly heads = new Map<string, Tensor>();
  /** Width of the contrastive embeddings (BLIP's embed_dim: 256 for ViT-B; here the text width). */
  readonly embedDim: number;

  constructor(config: BlipPresetName | BlipConfigInput, seed = 0) {
    this.backbone = new BlipBackbone(config, seed);
    const c = this.backbone.config;
    this.embedDim = c.bert.width;
    const rng = new Rng(seed + 1);
    linearParams(this.heads, 'vision_proj', c.vit.width, this.embedDim, rng);
    linearParams(this.heads, 'text_proj', c.bert.width, this.embedDim, rng);
    linearParams(this.heads, 'itm_head', c.bert.width, 2, rng);
    scalarParam(this.heads, 'temp', INITIAL_TEMP);
  }

  /** Every parameter: the backbone's ('visual_encoder.*', 'text_encoder.*') and the heads'. */
  parameters(): Map<string, Tensor> {
    return new Map([...this.backbone.parameters(), ...this.heads]);
  }

  get temp(): Tensor {
    return this.heads.get('temp')!;
  }

  /** Image tokens (B, N, E) -> L2-normalised contrastive image embeddings (B, P), from the [CLS] token. */
  imageEmbeds(imageTokens: Tensor): Tensor {
    const [B, , E] = imageTokens.shape;
    return l2normalize(applyLinear(this.heads, 'vision_proj', imageTokens.slice(1, 0, 1).reshape(B, E)));
  }

  /** ids, mask (B, T) -> L2-normalised contrastive text embeddings (B, P), from the text-mode [CLS]. */
  textEmbeds(ids: Tensor, mask: Tensor): Tensor {
    return l2normalize(applyLinear(this.heads, 'text_proj', this.backbone.encodeTextUnimodal(ids, mask)));
  }

  /** Image tokens (B, N, E) and their texts (B, T) -> ITM logits (B, 2): [no match, match]. */
  itmLogits(imageTokens: Tensor, ids: Tensor, mask: Tensor): Tensor {
    return applyLinear(this.heads, 'itm_head', this.backbone.encodeText(ids, mask, imageTokens));
  }

  /** Keeps temp in [TEMP_MIN, TEMP_MAX] (after each optimizer step, as BLIP does). */
  clampTemp(): void {
    const v = this.temp.item();
    if (v >= TEMP_MIN && v <= TEMP_MAX) return;
    const clamped = tensor(Math.min(TEMP_MAX, Math.max(TEMP_MIN, v)));
    native().copyInto(this.temp.handle, clamped.handle); // into the live parameter: the optimizer keeps its state
    clamped.dispose();
  }

  dispose(): void {
    this.backbone.dispose();
    disposeAll(this.heads);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
