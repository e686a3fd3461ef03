// imagereward.ts: ImageRewardScorer, ImageReward (Xu et al. 2023) on our engine: the BLIP backbone's
// [CLS] feature, its MLP head 768-1024-128-64-16-1 without activations (the released code comments the
// ReLUs out; Dropout is identity at inference), and its score normalisation (r - mean) / std.
// Loads an ImageReward checkpoint converted to safetensors in its own key layout:
//   'blip.visual_encoder.*', 'blip.text_encoder.*'  -> the backbone
//   'mlp.layers.{0,2,4,6,7}.*'                       -> the head (nn.Sequential indices: Linear, Dropout,
//                                                      Linear, Dropout, Linear, Dropout, Linear, Linear)
//   'blip.vision_proj.*', 'blip.text_proj.*', 'blip.text_encoder.embeddings.position_ids'
//                                                   -> ignored: BLIP_Pretrain parts the score never uses
import type { Device } from '../api/dtype.js';
import type { Tensor } from '../api/tensor.js';
import { moveModels, NativeModel, type LoadReport } from '../api/model.js';
import { readSafetensors } from '../io/safetensors.js';
import { TreeRewardError } from '../native/errors.js';
import { BlipBackbone, type EncoderCallOptions } from './blip.js';
import type { BlipConfigInput, BlipPresetName } from './blip-configs.js';
import { asMap, withoutPrefix, wouldMismatch, type Weights } from './weights.js';

/** ImageReward's score normalisation (ImageReward.py: self.mean, self.std). */
export const IMAGEREWARD_MEAN = 0.16717362830052426;
export const IMAGEREWARD_STD = 1.0333394966054072;
/** The head's layer widths after the BLIP feature. */
export const IMAGEREWARD_HEAD_DIMS = [1024, 128, 64, 16, 1] as const;

/** Head layer i is 'mlp.layers.<CHECKPOINT[i]>' in a checkpoint and 'layers.<2 i>' in the native 'mlp' kind. */
const CHECKPOINT_LAYER_INDEX = [0, 2, 4, 6, 7];
const IGNORED = [/^blip\.vision_proj\./, /^blip\.text_proj\./, /^blip\.text_encoder\.embeddings\.position_ids$/];

export interface ImageRewardLoadReport {
  blip: LoadReport;
  head: LoadReport;
  /** Checkpoint entries the score does not use (BLIP_Pretrain's projections, buffers). */
  ignored: string[];
  /** Entries under neither 'blip.' nor 'mlp.' (with strict, an error). */
  unexpected: string[];
}

export interface ImageRewardOptions {
  /** Defaults to ImageReward's 0.16717362830052426. */
  mean?: number;
  /** Defaults to ImageReward's 1.0333394966054072. */
  std?: number;
}

export class ImageRewardScorer {
  readonly blip: BlipBackbone;
  /** The native 'mlp' kind with act none: 'layers.{0,2,4,6,8}'. */
  readonly head: NativeModel;
  readonly mean: number;
  readonly std: number;

  /** sd15 is ImageReward's size (ViT-L/16 at 224, BERT-base, 35 tokens); smaller configs serve tests. */
  constructor(config: BlipPresetName | BlipConfigInput = 'sd15', seed = 0, options: ImageRewardOptions = {}) {
    this.blip = new BlipBackbone(config, seed);
    this.head = new NativeModel('mlp', { dims: [this.blip.width, ...IMAGEREWARD_HEAD_DIMS], act: 'none' }, seed + 1);
    this.mean = options.mean ?? IMAGEREWARD_MEAN;
    this.std = options.std ?? IMAGEREWARD_STD;
    if (!(this.std > 0)) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a positive number for options.std but received ${this.std}`);
  }

  get device(): Device {
    return this.blip.device;
  }

  /** Moves the backbone and the head to `device` in place (both or neither: see moveModels). */
  to(device: Device): this {
    moveModels([this.blip.model, this.head], device);
    return this;
  }

  /** A scorer with an ImageReward checkpoint (converted to safetensors) loaded strictly. */
  static fromSafetensors(file: string, config: BlipPresetName | BlipConfigInput = 'sd15', options: ImageRewardOptions = {}): ImageRewardScorer {
    const scorer = new ImageRewardScorer(config, 0, options);
    const { tensors } = readSafetensors(file);
    try {
      scorer.loadStateDict(tensors);
    } catch (e) {
      scorer.dispose();
      throw e;
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return scorer;
  }

  /** Loads a checkpoint in ImageReward's layout; with strict (the default) nothing is copied on any mismatch. */
  loadStateDict(weights: Weights, options: { strict?: boolean } = {}): ImageRewardLoadReport {
    const strict = options.strict ?? true;
    const all = asMap(weights);
    const ignored: string[] = [], unexpected: string[] = [];
    const used = new Map<string, Tensor>();
    for (const [name, t] of all) {
      if (IGNORED.some((re) => re.test(name))) ignored.push(name);
      else if (name.startsWith('blip.') || name.startsWith('mlp.')) used.set(name, t);
      else unexpected.push(name);
    }
    if (strict && unexpected.length) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected an ImageReward checkpoint ('blip.*', 'mlp.*') but found ${unexpected.length} other entries (${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''})`);
    }
    const head = new Map<string, Tensor>();
    for (const [name, t] of withoutPrefix(used, 'mlp.')) head.set(headName(name), t);
    // Strict: check the head before the backbone copies anything (the backbone's strict load copies
    // nothing when it fails; the head's would fail after the backbone was loaded).
    if (strict && wouldMismatch(this.head.parameters(), head)) this.head.loadStateDict(head, { strict });
    const blipReport = this.blip.loadStateDict(used, { prefix: 'blip.', strict });
    const headReport = this.head.loadStateDict(head, { strict });
    return { blip: blipReport, head: headReport, ignored, unexpected };
  }

  /** The head's raw output r (B,) before normalisation. */
  rawScore(image: Tensor, ids: Tensor, mask: Tensor, options: EncoderCallOptions = {}): Tensor {
    const feature = this.blip.forward(image, ids, mask, options);  // (B, D)
    const [r] = this.head.call('forward', [feature]);               // (B, 1)
    return r.reshape([r.shape[0]]);
  }

  /**
   * ImageReward's score (B,): (r - mean) / std. image (B, 3, 224, 224) normalised with CLIP's mean and std
   * (see normalizeImage), ids / mask (B, T) from BLIP's BERT tokenizer padded to 35. Differentiable in the image.
   */
  score(image: Tensor, ids: Tensor, mask: Tensor, options: EncoderCallOptions = {}): Tensor {
    return this.rawScore(image, ids, mask, options).sub(this.mean).div(this.std);
  }

  dispose(): void {
    this.blip.dispose();
    this.head.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** 'layers.7.weight' (ImageReward's last Linear) -> 'layers.8.weight' (the native mlp's fifth layer). */
function headName(name: string): string {
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return name;
  const i = CHECKPOINT_LAYER_INDEX.indexOf(Number(m[1]));
  return i < 0 ? name : `layers.${2 * i}.${m[2]}`;
}
