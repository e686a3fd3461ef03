// unet.ts: UNet, the typed handle to the native UNet2DConditionModel (Stable Diffusion 1.5's topology,
// diffusers' parameter names): config validated with zod before the native model is built, inputs checked
// before each call. Optionally with LoRA adapters on its transformers' projections (native, so they
// train through autograd like any parameter: "<...>.attn1.to_q.lora_A.weight", "....lora_B.weight").
import { full } from '../api/create.js';
import { NativeModel } from '../api/model.js';
import type { Device } from '../api/dtype.js';
import { Tensor } from '../api/tensor.js';
import { fmtShape } from '../api/validate.js';
import { expected, TreeRewardError } from '../native/errors.js';
import { parseUNetConfig, pickConfig, unetHeads, type DiffusionPresetName, type UNetConfig } from './configs.js';
import { requireFeatureMap, requireFloat32 } from './model-inputs.js';

export interface UNetCallOptions {
  /** Recompute each resnet and transformer in backward instead of keeping its activations. Defaults to false. */
  checkpointing?: boolean;
}

/** The projections of a transformer block that can carry LoRA adapters (diffusers' names). */
export const LORA_PROJECTIONS = ['to_q', 'to_k', 'to_v', 'to_out.0', 'ff.net.0.proj', 'ff.net.2'] as const;
export type LoraProjection = (typeof LORA_PROJECTIONS)[number];

/** LoRA adapters: delta W = (alpha / rank) B A on each target projection, B starting at zero. */
export interface LoraOptions {
  rank: number;
  alpha: number;
  /** Projections of every attention (attn1 and attn2) or feed-forward to adapt. */
  targets: readonly LoraProjection[];
}

export interface UNetOptions {
  /** Attach LoRA adapters (seeded apart from the base weights: a seed's base weights are the same with or without). */
  lora?: LoraOptions;
}

export class UNet extends NativeModel {
  readonly config: UNetConfig;
  /** Heads per level (the mid block uses the last). */
  readonly heads: number[];
  /** The adapters' settings, or null for a plain UNet. */
  readonly lora: LoraOptions | null;

  /** Builds a UNet with seeded PyTorch-default weights (and zero-initialised LoRA B matrices with options.lora). */
  constructor(config: UNetConfig, seed = 0, options: UNetOptions = {}) {
    const c = parseUNetConfig(config);
    const lora = options.lora === undefined ? null : checkLora(options.lora);
    super('unet', lora ? { ...c, lora: { ...lora, targets: [...lora.targets] } } : c, seed);
    this.config = c;
    this.heads = unetHeads(c);
    this.lora = lora;
  }

  /** A preset ("tiny", "bench", "sd15"), a models.json-shaped entry ({ unet, ... }) or a UNet config. */
  static fromConfig(source: DiffusionPresetName | object, seed = 0): UNet {
    const { value, name } = pickConfig(source, 'unet');
    return new UNet(parseUNetConfig(value, name), seed);
  }

  /** How much the down path shrinks the sample: h and w must be multiples of it. */
  get downFactor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /**
   * The noise prediction: sample (B, in_channels, h, w), timestep (B) (or one number / one-element tensor for
   * the whole batch), encoderHiddenStates (B, M, cross_attention_dim) -> (B, out_channels, h, w). sample and
   * encoderHiddenStates live on the model's device (see to()); a timestep tensor may live on either.
   */
  forward(sample: Tensor, timestep: Tensor | number, encoderHiddenStates: Tensor, options: UNetCallOptions = {}): Tensor {
    const c = this.config;
    const x = requireFeatureMap(sample, 'sample', c.in_channels, this.downFactor, `[B, ${c.in_channels}, h, w]`);
    const B = x.shape[0];
    const ctx = requireFloat32(encoderHiddenStates, 'encoderHiddenStates');
    const cs = ctx.shape;
    if (cs.length !== 3 || cs[0] !== B || cs[2] !== c.cross_attention_dim || cs[1] < 1) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected shape [${B}, M, ${c.cross_attention_dim}] for encoderHiddenStates but received ${fmtShape(cs)}`);
    }
    const checkpointing = options.checkpointing ?? false;
    if (typeof checkpointing !== 'boolean') throw expected('a boolean', 'options.checkpointing', checkpointing);
    const { t, made } = timesteps(timestep, B, this.device);
    try {
      return this.call('forward', [x, t, ctx], { checkpointing })[0];
    } finally {
      if (made) t.dispose();
    }
  }
}

function checkLora(lora: LoraOptions): LoraOptions {
  if (lora === null || typeof lora !== 'object') throw expected('an object { rank, alpha, targets }', 'options.lora', lora);
  const { rank, alpha, targets } = lora;
  if (!Number.isInteger(rank) || rank < 1) throw expected('an integer >= 1', 'options.lora.rank', rank);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) throw expected('a finite number > 0', 'options.lora.alpha', alpha);
  if (!Array.isArray(targets) || targets.length === 0) throw expected(`a non-empty array of ${LORA_PROJECTIONS.join(', ')}`, 'options.lora.targets', targets);
  targets.forEach((t, i) => {
    if (!(LORA_PROJECTIONS as readonly string[]).includes(t)) throw expected(`one of ${LORA_PROJECTIONS.join(', ')}`, `options.lora.targets[${i}]`, t);
  });
  return { rank, alpha, targets: [...new Set(targets)] };
}

/** The timestep as a float32 (B) tensor (a number becomes one on `device`); `made` when this function created it. */
function timesteps(timestep: Tensor | number, B: number, device: Device): { t: Tensor; made: boolean } {
  if (typeof timestep === 'number') {
    if (!Number.isFinite(timestep)) throw expected('a finite number or a Tensor', 'timestep', timestep);
    return { t: full([B], timestep, { device }), made: true };
  }
  if (!(timestep instanceof Tensor)) throw expected('a number or a Tensor', 'timestep', timestep);
  if (timestep.isDisposed) throw new TreeRewardError('DISPOSED', 'Expected a live tensor for timestep but received one that was disposed');
  const s = timestep.shape;
  const n = s.reduce((a, b) => a * b, 1);
  if (s.length > 1 || (n !== B && n !== 1)) throw new TreeRewardError('SHAPE_MISMATCH', `Expected shape [${B}] (or one element) for timestep but received ${fmtShape(s)}`);
  if (n === B && s.length === 1 && timestep.dtype === 'float32') return { t: timestep, made: false };
  // A cast and a reshape (or expand) to (B): each a new handle, the intermediates released here.
  const cast = timestep.to('float32');
  const flat = cast.reshape([n]);
  cast.dispose();
  if (n === B) return { t: flat, made: true };
  const t = flat.expand([B]);
  flat.dispose();
  return { t, made: true };
}
