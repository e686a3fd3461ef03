// aesthetic.ts: aesthetic score, the LAION aesthetic predictor: an MLP D-1024-128-64-16-1 without
// activations (Dropout is identity at inference) over the L2-normalised CLIP image embedding. Loads
// the released predictor converted to safetensors (its names layers.{0,2,4,6,7}, renamed by
// src/io/names) or a native checkpoint; on the world its weights are trained on the judges' scores
// (the world-assets work).
import { NativeModel, noGrad, tidy, type LoadReport, type Tensor } from '../../api/index.js';
import type { RgbImage } from '../../api/interfaces.js';
import { aestheticToNative } from '../../io/names/index.js';
import { readSafetensors } from '../../io/safetensors.js';
import { TreeRewardError } from '../../native/errors.js';
import type { ImageTextEncoder } from './clip-score.js';
import { imageEmbeddings } from './clip-score.js';
import { tensor } from '../../api/index.js';

/** The LAION predictor's hidden widths after the embedding. */
export const AESTHETIC_HEAD_DIMS = [1024, 128, 64, 16, 1] as const;

export class AestheticPredictor {
  /** The native 'mlp' kind with act none: 'layers.{0,2,4,6,8}'. */
  readonly head: NativeModel;
  readonly #owned: boolean;

  /**
   * `embedDim`: the CLIP embedding width (768 for ViT-L/14). `hidden` defaults to the LAION
   * predictor's. `head`: an existing head to score with (the world CLIP's; not disposed here).
   */
  constructor(readonly embedDim: number, options: { hidden?: readonly number[]; seed?: number; head?: NativeModel } = {}) {
    if (!Number.isInteger(embedDim) || embedDim < 1) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a positive integer for embedDim but received ${embedDim}`);
    const dims = [embedDim, ...(options.hidden ?? AESTHETIC_HEAD_DIMS.slice(0, -1)), 1];
    this.#owned = !options.head;
    this.head = options.head ?? new NativeModel('mlp', { dims, act: 'none' }, options.seed ?? 0);
  }

  /**
   * Loads weights in the LAION layout (layers.{0,2,4,6,7}.*) or the native one (layers.{0,2,4,6,8}.*);
   * strict by default.
   */
  loadStateDict(weights: Map<string, Tensor>, options: { strict?: boolean } = {}): LoadReport {
    const laion = [...weights.keys()].some((k) => k.startsWith('layers.7.'));
    const renamed = laion ? aestheticToNative(weights) : { map: weights, unknown: [] as string[] };
    if ((options.strict ?? true) && renamed.unknown.length) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected the LAION aesthetic predictor's names (layers.{0,2,4,6,7}.*) but found ${renamed.unknown.slice(0, 5).join(', ')}`);
    }
    return this.head.loadStateDict(renamed.map, options);
  }

  /** A predictor from a safetensors file (the embedding width read from its first layer). */
  static fromSafetensors(file: string): AestheticPredictor {
    const { tensors } = readSafetensors(file);
    try {
      const first = tensors.get('layers.0.weight');
      if (!first || first.shape.length !== 2) throw new TreeRewardError('CORRUPT_FILE', `Expected layers.0.weight of shape [1024, D] in ${file} but it has ${first ? `shape [${first.shape}]` : 'none'}`);
      const widths = [0, 2, 4, 6].map((i) => tensors.get(`layers.${i}.weight`)?.shape[0]).filter((w): w is number => w !== undefined);
      const p = new AestheticPredictor(first.shape[1]!, { hidden: widths });
      p.loadStateDict(tensors);
      return p;
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  /** embeds (B, D), unit rows -> scores (B). */
  score(embeds: Tensor): Tensor {
    const [r] = this.head.call('forward', [embeds]);
    return r!.reshape([r!.shape[0]!]);
  }

  dispose(): void {
    if (this.#owned) this.head.dispose();
  }
}

/** Aesthetic score of each image: the predictor on the encoder's normalised image embedding. */
export async function aestheticScores(encoder: ImageTextEncoder, predictor: AestheticPredictor, images: readonly RgbImage[]): Promise<number[]> {
  if (images.length === 0) return [];
  const { values, width } = await imageEmbeddings(encoder, images);
  if (width !== predictor.embedDim) throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${predictor.embedDim}-wide embeddings for the aesthetic predictor but ${encoder.name} gives ${width}`);
  return noGrad(() => tidy(() => Array.from(predictor.score(tensor(values, [values.length / width, width])).toArray() as ArrayLike<number>)));
}
