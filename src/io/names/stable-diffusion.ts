// stable-diffusion.ts: the original LDM checkpoint layout of Stable Diffusion 1.x (side A) and the
// diffusers layout our UNet, VAE and CLIP text encoder use (side B), as tables generated from the
// architecture's shape: `levels` resolutions, `layersPerBlock` resnets per down level (one more per
// up level), attention at `attentionLevels`. After diffusers' scripts/convert_original_stable_
// diffusion_to_diffusers.py and convert_diffusers_to_original_stable_diffusion.py.
//   UNet  input_blocks.{1 + l(N+1) + j}.0 <-> down_blocks.l.resnets.j     (.1 <-> .attentions.j)
//         input_blocks.{(l+1)(N+1)}.0.op  <-> down_blocks.l.downsamplers.0.conv
//         middle_block.{0,1,2}            <-> mid_block.{resnets.0, attentions.0, resnets.1}
//         output_blocks.{i(N+1) + j}.0    <-> up_blocks.i.resnets.j       (.1 <-> .attentions.j)
//         output_blocks.{i(N+1) + N}.{1|2}.conv <-> up_blocks.i.upsamplers.0.conv
//         resnets: in_layers.{0,2} <-> norm{1}/conv1, out_layers.{0,3} <-> norm2/conv2, emb_layers.1 <-> time_emb_proj, skip_connection <-> conv_shortcut
//   VAE   encoder.down.i.block.j <-> encoder.down_blocks.i.resnets.j, decoder.up.{L-1-i} <-> decoder.up_blocks.i,
//         mid.block_{1,2} <-> mid_block.resnets.{0,1}, mid.attn_1.{norm,q,k,v,proj_out} <-> mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
//         (q, k, v, proj_out are 1x1 convolutions (C, C, 1, 1) in LDM and linear (C, C) in diffusers), nin_shortcut <-> conv_shortcut, norm_out <-> conv_norm_out
//   Text  transformer.text_model.* <-> text_model.*
import { TreeRewardError } from '../../native/errors.js';
import { NameTable, type InnerRule, type NameRule, type Reshapable, type Renamed } from './rules.js';

export interface UNetLayout {
  /** Resolutions (down blocks). Defaults to 4 (SD 1.x). */
  levels?: number;
  /** Resnets per down block. Defaults to 2. */
  layersPerBlock?: number;
  /** Levels (0 = full resolution) whose blocks have attention. Defaults to [0, 1, 2]. */
  attentionLevels?: number[];
}

export interface VaeLayout {
  /** Defaults to 4. */
  levels?: number;
  /** Resnets per encoder block (the decoder has one more). Defaults to 2. */
  layersPerBlock?: number;
}

export interface SdLayout extends UNetLayout {
  vae?: VaeLayout;
}

/** The checkpoint prefixes of an LDM Stable Diffusion file. */
export const LDM_PREFIXES = { unet: 'model.diffusion_model.', vae: 'first_stage_model.', textEncoder: 'cond_stage_model.' } as const;

const SD1_UNET = { levels: 4, layersPerBlock: 2, attentionLevels: [0, 1, 2] };
const SD1_VAE = { levels: 4, layersPerBlock: 2 };

function checkCount(v: unknown, name: string, min: number): number {
  if (!Number.isInteger(v) || (v as number) < min) throw new TreeRewardError('INVALID_ARGUMENT', `Expected an integer of at least ${min} for ${name} but received ${String(v)}`);
  return v as number;
}

function unetLayout(l: UNetLayout = {}): Required<UNetLayout> {
  const levels = checkCount(l.levels ?? SD1_UNET.levels, 'levels', 1);
  const layersPerBlock = checkCount(l.layersPerBlock ?? SD1_UNET.layersPerBlock, 'layersPerBlock', 1);
  const attentionLevels = l.attentionLevels ?? SD1_UNET.attentionLevels.filter((x) => x < levels);
  if (!Array.isArray(attentionLevels) || attentionLevels.some((x) => !Number.isInteger(x) || x < 0 || x >= levels)) {
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected levels between 0 and ${levels - 1} for attentionLevels but received ${JSON.stringify(attentionLevels)}`);
  }
  return { levels, layersPerBlock, attentionLevels };
}

const UNET_RESNET: InnerRule[] = [
  { a: 'in_layers.0', b: 'norm1' }, { a: 'in_layers.2', b: 'conv1' }, { a: 'out_layers.0', b: 'norm2' }, { a: 'out_layers.3', b: 'conv2' },
  { a: 'emb_layers.1', b: 'time_emb_proj' }, { a: 'skip_connection', b: 'conv_shortcut' },
];

/** The UNet table for a layout (names relative to the UNet: LDM without "model.diffusion_model."). */
export function unetTable(layout: UNetLayout = {}): NameTable {
  const { levels: L, layersPerBlock: N, attentionLevels } = unetLayout(layout);
  const attn = new Set(attentionLevels);
  const resnet = (a: string, b: string): NameRule => ({ a, b, inner: UNET_RESNET, strict: true });
  const rules: NameRule[] = [
    { a: 'time_embed.0', b: 'time_embedding.linear_1' }, { a: 'time_embed.2', b: 'time_embedding.linear_2' },
    { a: 'input_blocks.0.0', b: 'conv_in' }, { a: 'out.0', b: 'conv_norm_out' }, { a: 'out.2', b: 'conv_out' },
    resnet('middle_block.0', 'mid_block.resnets.0'), { a: 'middle_block.1', b: 'mid_block.attentions.0' }, resnet('middle_block.2', 'mid_block.resnets.1'),
  ];
  for (let l = 0; l < L; l++) {
    for (let j = 0; j < N; j++) {
      const k = 1 + l * (N + 1) + j;
      rules.push(resnet(`input_blocks.${k}.0`, `down_blocks.${l}.resnets.${j}`));
      if (attn.has(l)) rules.push({ a: `input_blocks.${k}.1`, b: `down_blocks.${l}.attentions.${j}` });
    }
    if (l < L - 1) rules.push({ a: `input_blocks.${(l + 1) * (N + 1)}.0.op`, b: `down_blocks.${l}.downsamplers.0.conv` });
  }
  for (let i = 0; i < L; i++) {
    const level = L - 1 - i;
    for (let j = 0; j <= N; j++) {
      const k = i * (N + 1) + j;
      rules.push(resnet(`output_blocks.${k}.0`, `up_blocks.${i}.resnets.${j}`));
      if (attn.has(level)) rules.push({ a: `output_blocks.${k}.1`, b: `up_blocks.${i}.attentions.${j}` });
      if (i < L - 1 && j === N) rules.push({ a: `output_blocks.${k}.${attn.has(level) ? 2 : 1}.conv`, b: `up_blocks.${i}.upsamplers.0.conv` });
    }
  }
  return new NameTable(rules);
}

const VAE_RESNET: InnerRule[] = [
  { a: 'norm1', b: 'norm1' }, { a: 'conv1', b: 'conv1' }, { a: 'norm2', b: 'norm2' }, { a: 'conv2', b: 'conv2' }, { a: 'nin_shortcut', b: 'conv_shortcut' },
];
const VAE_ATTENTION: InnerRule[] = [
  { a: 'norm', b: 'group_norm' },
  { a: 'q', b: 'to_q', bAlt: ['query'], conv1x1: true },
  { a: 'k', b: 'to_k', bAlt: ['key'], conv1x1: true },
  { a: 'v', b: 'to_v', bAlt: ['value'], conv1x1: true },
  { a: 'proj_out', b: 'to_out.0', bAlt: ['proj_attn'], conv1x1: true },
];

/** The VAE table (names relative to the VAE: LDM without "first_stage_model."). */
export function vaeTable(layout: VaeLayout = {}): NameTable {
  const L = checkCount(layout.levels ?? SD1_VAE.levels, 'vae.levels', 1);
  const N = checkCount(layout.layersPerBlock ?? SD1_VAE.layersPerBlock, 'vae.layersPerBlock', 1);
  const rules: NameRule[] = [{ a: 'quant_conv', b: 'quant_conv' }, { a: 'post_quant_conv', b: 'post_quant_conv' }];
  for (const part of ['encoder', 'decoder']) {
    rules.push(
      { a: `${part}.conv_in`, b: `${part}.conv_in` }, { a: `${part}.conv_out`, b: `${part}.conv_out` }, { a: `${part}.norm_out`, b: `${part}.conv_norm_out` },
      { a: `${part}.mid.block_1`, b: `${part}.mid_block.resnets.0`, inner: VAE_RESNET, strict: true },
      { a: `${part}.mid.block_2`, b: `${part}.mid_block.resnets.1`, inner: VAE_RESNET, strict: true },
      { a: `${part}.mid.attn_1`, b: `${part}.mid_block.attentions.0`, inner: VAE_ATTENTION, strict: true },
    );
  }
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < N; j++) rules.push({ a: `encoder.down.${i}.block.${j}`, b: `encoder.down_blocks.${i}.resnets.${j}`, inner: VAE_RESNET, strict: true });
    if (i < L - 1) rules.push({ a: `encoder.down.${i}.downsample.conv`, b: `encoder.down_blocks.${i}.downsamplers.0.conv` });
    const up = L - 1 - i;
    for (let j = 0; j <= N; j++) rules.push({ a: `decoder.up.${up}.block.${j}`, b: `decoder.up_blocks.${i}.resnets.${j}`, inner: VAE_RESNET, strict: true });
    if (i < L - 1) rules.push({ a: `decoder.up.${up}.upsample.conv`, b: `decoder.up_blocks.${i}.upsamplers.0.conv` });
  }
  return new NameTable(rules);
}

/** The CLIP text encoder (names relative to "cond_stage_model."; very old checkpoints lack "text_model."). */
export function textEncoderTable(): NameTable {
  return new NameTable([
    { a: 'transformer.text_model', b: 'text_model' },
    { a: 'transformer', b: 'text_model', only: 'aToB' },
  ]);
}

// ---- the functions ----

export function unetLdmToDiffusers<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>, layout?: UNetLayout): Renamed<T> {
  return unetTable(layout).apply(map, 'aToB');
}
export function unetDiffusersToLdm<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>, layout?: UNetLayout): Renamed<T> {
  return unetTable(layout).apply(map, 'bToA');
}
export function vaeLdmToDiffusers<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>, layout?: VaeLayout): Renamed<T> {
  return vaeTable(layout).apply(map, 'aToB');
}
export function vaeDiffusersToLdm<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>, layout?: VaeLayout): Renamed<T> {
  return vaeTable(layout).apply(map, 'bToA');
}
export function textEncoderLdmToDiffusers<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>): Renamed<T> {
  return textEncoderTable().apply(map, 'aToB');
}
export function textEncoderDiffusersToLdm<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>): Renamed<T> {
  return textEncoderTable().apply(map, 'bToA');
}

/** Entries of a whole LDM checkpoint that are known and not part of the three models. */
const LDM_IGNORED = [
  /^model_ema\./, /^first_stage_model\.loss\./,
  /^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|logvar)$/,
];

export interface SdComponents<T> {
  unet: Map<string, T>;
  vae: Map<string, T>;
  textEncoder: Map<string, T>;
}

/**
 * A whole SD 1.x LDM checkpoint (the state_dict of a .ckpt: model.diffusion_model.*,
 * first_stage_model.*, cond_stage_model.transformer.*) split into the three diffusers models.
 * Unknown names (full checkpoint names) are reported; EMA weights, the loss and the noise-schedule
 * buffers are reported as ignored.
 */
export function ldmToDiffusers<T extends Reshapable<T>>(map: Map<string, T> | Record<string, T>, layout: SdLayout = {}): SdComponents<T> & { unknown: string[]; ignored: string[] } {
  const input = map instanceof Map ? map : new Map(Object.entries(map));
  const parts = { unet: new Map<string, T>(), vae: new Map<string, T>(), textEncoder: new Map<string, T>() };
  const unknown: string[] = [];
  const ignored: string[] = [];
  for (const [name, v] of input) {
    if (LDM_IGNORED.some((re) => re.test(name))) ignored.push(name);
    else if (name.startsWith(LDM_PREFIXES.unet)) parts.unet.set(name.slice(LDM_PREFIXES.unet.length), v);
    else if (name.startsWith(LDM_PREFIXES.vae)) parts.vae.set(name.slice(LDM_PREFIXES.vae.length), v);
    else if (name.startsWith(LDM_PREFIXES.textEncoder)) parts.textEncoder.set(name.slice(LDM_PREFIXES.textEncoder.length), v);
    else unknown.push(name);
  }
  const u = unetLdmToDiffusers(parts.unet, layout);
  const a = vaeLdmToDiffusers(parts.vae, layout.vae);
  const t = textEncoderLdmToDiffusers(parts.textEncoder);
  return {
    unet: u.map, vae: a.map, textEncoder: t.map,
    unknown: [...unknown, ...u.unknown.map((n) => LDM_PREFIXES.unet + n), ...a.unknown.map((n) => LDM_PREFIXES.vae + n), ...t.unknown.map((n) => LDM_PREFIXES.textEncoder + n)],
    ignored,
  };
}

/** The three diffusers models put back into one LDM checkpoint state dict (what the original scripts load). */
export function diffusersToLdm<T extends Reshapable<T>>(parts: Partial<SdComponents<T>>, layout: SdLayout = {}): Renamed<T> {
  const out: Renamed<T> = { map: new Map(), unknown: [], ignored: [] };
  const add = (r: Renamed<T>, prefix: string, label: string) => {
    for (const [n, v] of r.map) out.map.set(prefix + n, v);
    out.unknown.push(...r.unknown.map((n) => `${label}:${n}`));
  };
  if (parts.unet) add(unetDiffusersToLdm(parts.unet, layout), LDM_PREFIXES.unet, 'unet');
  if (parts.vae) add(vaeDiffusersToLdm(parts.vae, layout.vae), LDM_PREFIXES.vae, 'vae');
  if (parts.textEncoder) add(textEncoderDiffusersToLdm(parts.textEncoder), LDM_PREFIXES.textEncoder, 'textEncoder');
  return out;
}

/** The UNet layout an LDM UNet's names imply (downsample positions, attention blocks), or null when they show none. */
export function inferLdmUNetLayout(names: Iterable<string>): Required<UNetLayout> | null {
  const downs = new Set<number>();
  const blocks = new Map<number, Set<string>>();
  for (const n of names) {
    const m = /^(?:model\.diffusion_model\.)?input_blocks\.(\d+)\.(\d+)\.(op)?/.exec(n);
    if (!m) continue;
    const k = Number(m[1]);
    if (m[3]) downs.add(k);
    if (!blocks.has(k)) blocks.set(k, new Set());
    blocks.get(k)!.add(m[2]);
  }
  if (blocks.size === 0) return null;
  const sorted = [...downs].sort((x, y) => x - y);
  const N = sorted.length ? sorted[0] - 1 : Math.max(...blocks.keys());
  const levels = sorted.length + 1;
  const attentionLevels: number[] = [];
  for (let l = 0; l < levels; l++) if (blocks.get(1 + l * (N + 1))?.has('1')) attentionLevels.push(l);
  return { levels, layersPerBlock: N, attentionLevels };
}
