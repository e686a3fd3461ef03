// blip.ts: BlipBackbone, the BLIP reward backbone (native kind "blip"): ViT image encoder, BERT text
// encoder cross-attending to the image tokens, [CLS] feature. Parameters carry BLIP's own names
// ('visual_encoder.*', 'text_encoder.*'); ImageReward and the peer keep them under 'blip.', which
// loadStateDict's `prefix` strips.
import type { Device } from '../api/dtype.js';
import type { Tensor } from '../api/tensor.js';
import { NativeModel, type LoadReport } from '../api/model.js';
import { fmtShape } from '../api/validate.js';
import { TreeRewardError } from '../native/errors.js';
import { blipImageTokens, parseBlipConfig, type BlipConfig, type BlipConfigInput, type BlipPresetName } from './blip-configs.js';
import { checkIds, checkImages, checkTokens, maskAsFloat, withDataOn } from './encoder-inputs.js';
import { withoutPrefix, type Weights } from './weights.js';

export interface EncoderCallOptions {
  /** Recompute each transformer layer in backward instead of keeping its activations. Defaults to false. */
  checkpointing?: boolean;
}

export interface PrefixedLoadOptions {
  /** Fail on any missing, unexpected or mis-shaped key. Defaults to true. */
  strict?: boolean;
  /** Only names starting with this belong to the model (the prefix is removed first; others are left out). Defaults to ''. */
  prefix?: string;
}

export class BlipBackbone {
  readonly config: BlipConfig;
  readonly model: NativeModel;

  /** A preset name (tiny, bench, sd15) or a config in models.json's names; seeded PyTorch-default weights. */
  constructor(config: BlipPresetName | BlipConfigInput, seed = 0) {
    this.config = parseBlipConfig(config);
    this.model = new NativeModel('blip', this.config, seed);
  }

  get device(): Device {
    return this.model.device;
  }

  /** Moves the weights to `device` in place (see NativeModel.to). Images live there too; ids and masks follow at each call. */
  to(device: Device): this {
    this.model.to(device);
    return this;
  }

  /** Feature width (the text encoder's). */
  get width(): number {
    return this.config.bert.width;
  }

  /** Image tokens per image: [CLS] + patches. */
  get imageTokens(): number {
    return blipImageTokens(this.config);
  }

  /** The live parameters under BLIP's names ('visual_encoder.*', 'text_encoder.*'). */
  parameters(): Map<string, Tensor> {
    return this.model.parameters();
  }

  /** Loads weights by name; with `prefix: 'blip.'` an ImageReward checkpoint or the peer's weights. */
  loadStateDict(weights: Weights, options: PrefixedLoadOptions = {}): LoadReport {
    const prefix = options.prefix ?? '';
    return this.model.loadStateDict(prefix ? withoutPrefix(weights, prefix) : weights, { strict: options.strict });
  }

  /**
   * image (B, 3, S, S) normalised pixels (CLIP's mean and std), ids int32 (B, T), mask (B, T) of 1 / 0
   * (float32 or int32) -> [CLS] feature (B, D). Differentiable with respect to the image.
   */
  forward(image: Tensor, ids: Tensor, mask: Tensor, options: EncoderCallOptions = {}): Tensor {
    const B = checkImages(image, 'image', this.config.image_size);
    const fmask = this.#textInputs(ids, mask, B);
    return withDataOn(this.device, [ids, fmask], ([i, m]) => this.model.call('forward', [image, i, m], options)[0]);
  }

  /** image (B, 3, S, S) -> image tokens (B, N, E), [CLS] first. */
  encodeImage(image: Tensor, options: EncoderCallOptions = {}): Tensor {
    checkImages(image, 'image', this.config.image_size);
    return this.model.call('encode_image', [image], options)[0];
  }

  /** ids, mask (B, T) and image tokens (B, N, E) from encodeImage -> [CLS] feature (B, D). */
  encodeText(ids: Tensor, mask: Tensor, imageTokens: Tensor, options: EncoderCallOptions = {}): Tensor {
    const fmask = this.#textInputs(ids, mask, imageTokens.shape[0]);
    checkTokens(imageTokens, 'imageTokens', ids.shape[0], this.config.vit.width);
    return withDataOn(this.device, [ids, fmask], ([i, m]) => this.model.call('encode_text', [i, m, imageTokens], options)[0]);
  }

  /**
   * ids, mask (B, T) -> the text-mode [CLS] feature (B, D): the same text encoder with its
   * cross-attention skipped (BLIP's unimodal text feature, which the image-text contrastive loss uses).
   */
  encodeTextUnimodal(ids: Tensor, mask: Tensor, options: EncoderCallOptions = {}): Tensor {
    const [B] = checkIds(ids, 'ids', this.config.bert.vocab, this.config.bert.max_position);
    return withDataOn(this.device, [ids, this.#textInputs(ids, mask, B)], (data) => this.model.call('encode_text_unimodal', data, options)[0]);
  }

  #textInputs(ids: Tensor, mask: Tensor, batch: number): Tensor {
    const [B, T] = checkIds(ids, 'ids', this.config.bert.vocab, this.config.bert.max_position);
    if (B !== batch) throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${batch} rows (the image batch) for ids but received ${fmtShape(ids.shape)}`);
    return maskAsFloat(mask, 'mask', [B, T]);
  }

  dispose(): void {
    this.model.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
