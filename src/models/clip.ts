// clip.ts: CLIP on our engine, in HF transformers' layout. ClipTextEncoder (native kind "clip_text",
// HF CLIPTextModel: SD1.5's text encoder, whose last_hidden_state (B, 77, 768) conditions the UNet),
// ClipVisionEncoder ("clip_vision", HF CLIPVisionModel), and ClipModel (both towers with their
// projections, as HF CLIPModel) for CLIP score.
import type { Device } from '../api/dtype.js';
import type { Tensor } from '../api/tensor.js';
import { tidy } from '../api/scope.js';
import { moveModels, NativeModel, type LoadReport } from '../api/model.js';
import { TreeRewardError } from '../native/errors.js';
import type { EncoderCallOptions, PrefixedLoadOptions } from './blip.js';
import {
  parseClipConfig, parseClipTextConfig, parseClipVisionConfig, type ClipConfigInput, type ClipPresetName, type ClipTextConfig,
  type ClipTextConfigInput, type ClipTextPresetName, type ClipVisionConfig, type ClipVisionConfigInput, type ClipVisionPresetName,
} from './clip-configs.js';
import { checkIds, checkImages, hostValues, maskAsFloat, withDataOn } from './encoder-inputs.js';
import { asMap, withoutPrefix, wouldMismatch, type Weights } from './weights.js';

export interface ClipTextOutput {
  /** (B, T, D), after final_layer_norm: the UNet's encoder_hidden_states. */
  lastHiddenState: Tensor;
  /** (B, D): the EOS token's row. */
  pooled: Tensor;
  /** (B, P) = text_projection(pooled), where the config has a projection. */
  textEmbeds: Tensor | null;
}

export interface ClipVisionOutput {
  /** (B, 1 + (S/p)^2, D), before post_layernorm (as HF). */
  lastHiddenState: Tensor;
  /** (B, D) = post_layernorm of the class token. */
  pooled: Tensor;
  /** (B, P) = visual_projection(pooled), where the config has a projection. */
  imageEmbeds: Tensor | null;
}

export class ClipTextEncoder {
  readonly config: ClipTextConfig;
  readonly model: NativeModel;

  /** tiny, sd15 (SD1.5's text encoder) or a config in HF's names; seeded PyTorch-default weights. */
  constructor(config: ClipTextPresetName | ClipTextConfigInput, seed = 0) {
    this.config = parseClipTextConfig(config);
    this.model = new NativeModel('clip_text', this.config, seed);
  }

  get device(): Device {
    return this.model.device;
  }

  /** Moves the weights to `device` in place (see NativeModel.to); ids and masks follow them at each call. */
  to(device: Device): this {
    this.model.to(device);
    return this;
  }

  /** The live parameters under HF's names ('text_model.*', 'text_projection.weight'). */
  parameters(): Map<string, Tensor> {
    return this.model.parameters();
  }

  /** Loads weights by name; `prefix` for a checkpoint that nests the model (e.g. 'text_encoder.'). */
  loadStateDict(weights: Weights, options: PrefixedLoadOptions = {}): LoadReport {
    return this.model.loadStateDict(withoutIgnored(options.prefix ? withoutPrefix(weights, options.prefix) : asMap(weights)), { strict: options.strict });
  }

  /** ids int32 (B, T), T <= max_position_embeddings; mask (B, T) of 1 / 0 (optional: SD1.5 passes none). Attention is causal. */
  forward(ids: Tensor, options: EncoderCallOptions & { mask?: Tensor | null } = {}): ClipTextOutput {
    const [B, T] = checkIds(ids, 'ids', this.config.vocab_size, this.config.max_position_embeddings);
    const mask = options.mask == null ? null : maskAsFloat(options.mask, 'mask', [B, T]);
    if (this.config.eos_token_id !== undefined) checkEos(ids, this.config.eos_token_id);
    const [lastHiddenState, pooled, textEmbeds] = withDataOn(this.device, [ids, mask], (data) =>
      this.model.call('forward', data, { checkpointing: options.checkpointing }));
    return { lastHiddenState, pooled, textEmbeds: textEmbeds ?? null };
  }

  dispose(): void {
    this.model.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

export class ClipVisionEncoder {
  readonly config: ClipVisionConfig;
  readonly model: NativeModel;

  /** tiny, vit-l-14 or a config in HF's names; seeded PyTorch-default weights. */
  constructor(config: ClipVisionPresetName | ClipVisionConfigInput, seed = 0) {
    this.config = parseClipVisionConfig(config);
    this.model = new NativeModel('clip_vision', this.config, seed);
  }

  get device(): Device {
    return this.model.device;
  }

  /** Moves the weights to `device` in place (see NativeModel.to); images must live there too. */
  to(device: Device): this {
    this.model.to(device);
    return this;
  }

  /** The live parameters under HF's names ('vision_model.*', 'visual_projection.weight'). */
  parameters(): Map<string, Tensor> {
    return this.model.parameters();
  }

  loadStateDict(weights: Weights, options: PrefixedLoadOptions = {}): LoadReport {
    return this.model.loadStateDict(withoutIgnored(options.prefix ? withoutPrefix(weights, options.prefix) : asMap(weights)), { strict: options.strict });
  }

  /** image (B, 3, S, S) normalised with CLIP's mean and std (normalizeImage). */
  forward(image: Tensor, options: EncoderCallOptions = {}): ClipVisionOutput {
    checkImages(image, 'image', this.config.image_size);
    const [lastHiddenState, pooled, imageEmbeds] = this.model.call('forward', [image], options);
    return { lastHiddenState, pooled, imageEmbeds: imageEmbeds ?? null };
  }

  dispose(): void {
    this.model.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface ClipLoadReport {
  text: LoadReport;
  vision: LoadReport;
  /** Entries that are neither tower's (with strict, an error). */
  unexpected: string[];
}

export class ClipModel {
  readonly text: ClipTextEncoder;
  readonly vision: ClipVisionEncoder;
  /** HF's logit_scale (its log); CLIP score does not use it. Defaults to log(1 / 0.07). */
  logitScale = Math.log(1 / 0.07);

  /** tiny, vit-l-14 (openai/clip-vit-large-patch14) or { text_config, vision_config, projection_dim }. */
  constructor(config: ClipPresetName | ClipConfigInput, seed = 0) {
    const c = parseClipConfig(config);
    this.text = new ClipTextEncoder(c.text, seed);
    this.vision = new ClipVisionEncoder(c.vision, seed + 1);
  }

  get device(): Device {
    return this.text.device;
  }

  /** Moves both towers to `device` in place (both or neither: see moveModels). */
  to(device: Device): this {
    moveModels([this.text.model, this.vision.model], device);
    return this;
  }

  /** Loads an HF CLIPModel state dict ('text_model.*', 'vision_model.*', both projections, 'logit_scale'). */
  loadStateDict(weights: Weights, options: { strict?: boolean } = {}): ClipLoadReport {
    const strict = options.strict ?? true;
    const text = new Map<string, Tensor>(), vision = new Map<string, Tensor>(), unexpected: string[] = [];
    let logitScale: Tensor | undefined;
    for (const [name, t] of withoutIgnored(asMap(weights))) {
      if (name.startsWith('text_model.') || name.startsWith('text_projection.')) text.set(name, t);
      else if (name.startsWith('vision_model.') || name.startsWith('visual_projection.')) vision.set(name, t);
      else if (name === 'logit_scale') logitScale = t;
      else unexpected.push(name);
    }
    if (strict && unexpected.length) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected a CLIPModel state dict ('text_model.*', 'vision_model.*', projections, logit_scale) but found ${unexpected.length} other entries (${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''})`);
    }
    // Strict: check the vision tower before the text tower copies anything.
    if (strict && wouldMismatch(this.vision.parameters(), vision)) this.vision.loadStateDict(vision, { strict });
    const report = { text: this.text.loadStateDict(text, { strict }), vision: this.vision.loadStateDict(vision, { strict }), unexpected };
    if (logitScale) this.logitScale = logitScale.item();
    return report;
  }

  /** L2-normalised image embeddings (B, P). */
  imageEmbeds(image: Tensor, options: EncoderCallOptions = {}): Tensor {
    return tidy(() => l2normalize(this.vision.forward(image, options).imageEmbeds!));
  }

  /** L2-normalised text embeddings (B, P). */
  textEmbeds(ids: Tensor, options: EncoderCallOptions & { mask?: Tensor | null } = {}): Tensor {
    return tidy(() => l2normalize(this.text.forward(ids, options).textEmbeds!));
  }

  /**
   * CLIP score (B,) = max(100 * cos(image embedding, text embedding), 0), as torchmetrics' CLIPScore
   * computes it per pair; differentiable with respect to the image.
   */
  clipScore(image: Tensor, ids: Tensor, options: EncoderCallOptions & { mask?: Tensor | null } = {}): Tensor {
    if (image.shape[0] !== ids.shape[0]) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${image.shape[0]} rows (the image batch) for ids but received ${ids.shape[0]}`);
    }
    return tidy(() => this.imageEmbeds(image, options).mul(this.textEmbeds(ids, options)).sum(-1).mul(100).relu());
  }

  dispose(): void {
    this.text.dispose();
    this.vision.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

function l2normalize(x: Tensor): Tensor {
  return x.div(x.mul(x).sum(-1, true).sqrt());
}

/** HF checkpoints also hold 'embeddings.position_ids' buffers: not parameters. */
function withoutIgnored(weights: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...weights].filter(([name]) => !name.endsWith('embeddings.position_ids')));
}

function checkEos(ids: Tensor, eos: number): void {
  const [B, T] = ids.shape, v = hostValues(ids);
  for (let b = 0; b < B; b++) {
    let found = false;
    for (let t = 0; t < T && !found; t++) found = v[b * T + t] === eos;
    if (!found) throw new TreeRewardError('INVALID_ARGUMENT', `Expected the eos token ${eos} in every row for ids but received none in row ${b}`);
  }
}
