// world-clip.ts: the world's CLIP (ClipModel's two towers with their projections, HF's names) with a
// learnable logit scale ('logit_scale', HF's), and an aesthetic head on the L2-normalised image
// embedding in the LAION predictor's shape: 768-1024-128-64-16-1 scaled to the embedding width, linear
// layers with no activation between them (the released predictor's dropouts are left out). Its
// parameters are 'aesthetic.layers.{0,2,4,6,8}.*' (the LAION table maps layers.7 <-> layers.8).
import { NativeModel, tensor, type Tensor } from '../api/index.js';
import { ClipModel } from '../models/clip.js';
import type { ClipConfigInput } from '../models/clip-configs.js';
import { native } from '../native/addon.js';
import { disposeAll, l2normalize, scalarParam } from './linear-params.js';

/** CLIP's initial logit scale, log(1 / 0.07), and OpenCLIP's ceiling, log(100). */
export const INITIAL_LOGIT_SCALE = Math.log(1 / 0.07);
export const MAX_LOGIT_SCALE = Math.log(100);

/** The LAION aesthetic predictor's layer widths for a 768-wide embedding. */
const LAION_WIDTHS = [1024, 128, 64, 16];

/** The predictor's hidden widths scaled from 768 to `width` (at least 2 each). */
export function aestheticWidths(width: number): number[] {
  return LAION_WIDTHS.map((w) => Math.max(2, Math.round((w * width) / 768)));
}

export class WorldClip {
  readonly clip: ClipModel;
  readonly config: ClipConfigInput;
  /** 'logit_scale' (a scalar). */
  readonly extra = new Map<string, Tensor>();
  /** The aesthetic head: [P, ...aestheticWidths(P), 1], native 'mlp' with no activation. */
  readonly aesthetic: NativeModel;
  readonly aestheticDims: number[];

  constructor(config: ClipConfigInput, seed = 0) {
    this.config = config;
    this.clip = new ClipModel(config, seed);
    scalarParam(this.extra, 'logit_scale', INITIAL_LOGIT_SCALE);
    this.aestheticDims = [config.projection_dim, ...aestheticWidths(config.projection_dim), 1];
    this.aesthetic = new NativeModel('mlp', { dims: this.aestheticDims, act: 'none' }, seed + 2);
  }

  /** The CLIP's parameters under HF CLIPModel's names, and logit_scale. */
  clipParameters(): Map<string, Tensor> {
    return new Map([...this.clip.text.parameters(), ...this.clip.vision.parameters(), ...this.extra]);
  }

  /** The aesthetic head's parameters, 'aesthetic.layers.*'. */
  aestheticParameters(): Map<string, Tensor> {
    return new Map([...this.aesthetic.parameters()].map(([n, p]) => [`aesthetic.${n}`, p]));
  }

  parameters(): Map<string, Tensor> {
    return new Map([...this.clipParameters(), ...this.aestheticParameters()]);
  }

  get logitScale(): Tensor {
    return this.extra.get('logit_scale')!;
  }

  /** Normalised pixels (B, 3, S, S) -> L2-normalised image embeddings (B, P). */
  imageEmbeds(pixels: Tensor): Tensor {
    return l2normalize(this.clip.vision.forward(pixels).imageEmbeds!);
  }

  /** ids, mask (B, T) (each row ending in the eos id) -> L2-normalised text embeddings (B, P). */
  textEmbeds(ids: Tensor, mask: Tensor): Tensor {
    return l2normalize(this.clip.text.forward(ids, { mask }).textEmbeds!);
  }

  /** L2-normalised image embeddings (B, P) -> aesthetic scores (B). */
  aestheticScore(imageEmbeds: Tensor): Tensor {
    return this.aesthetic.call('forward', [imageEmbeds])[0].reshape(-1);
  }

  /** Keeps the logit scale at most log(100) (after each optimizer step). */
  clampLogitScale(): void {
    const v = this.logitScale.item();
    if (v <= MAX_LOGIT_SCALE) return;
    const c = tensor(MAX_LOGIT_SCALE);
    native().copyInto(this.logitScale.handle, c.handle);
    c.dispose();
  }

  dispose(): void {
    this.clip.dispose();
    this.aesthetic.dispose();
    disposeAll(this.extra);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
