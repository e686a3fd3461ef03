// components.ts: the kinds of tokenizer, text encoder, UNet and VAE a model directory can name, each
// built from its config and a seed: the native UNet, AutoencoderKL and CLIP text model (src/models),
// the tokenizers (src/tokenizers: the world's words, CLIP's BPE) and the small stand-ins
// (src/diffusion/tiny). New kinds register here.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

import { ClipTextEncoder } from '../../models/clip.js';
import { parseUNetConfig, parseVaeConfig } from '../../models/configs.js';
import { AutoencoderKL } from '../../models/vae.js';
import { UNet } from '../../models/unet.js';
import type { Device } from '../../api/dtype.js';
import type { Tensor } from '../../api/tensor.js';
import { expected, TreeRewardError } from '../../native/errors.js';
import { loadTokenizer } from '../../tokenizers/index.js';
import { batchToTensors } from '../../tokenizers/tensors.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import { WORD_SPECIALS, WordTokenizer } from '../../tokenizers/word.js';
import { parseWith } from '../config-check.js';
import { IdentityVae } from '../tiny/identity-vae.js';
import { TinyTextEncoder } from '../tiny/tiny-text-encoder.js';
import { WordHashTokenizer } from '../tiny/word-hash-tokenizer.js';
import type { DiffusionModels, LatentCodec, PromptTokenizer, TextEncoder } from '../types.js';

export type ComponentRole = keyof DiffusionModels;
export const COMPONENT_ROLES: readonly ComponentRole[] = ['tokenizer', 'textEncoder', 'unet', 'vae'];

/** A component as a model directory names it: its kind and its config. */
export interface ComponentSpec {
  kind: string;
  config?: Record<string, unknown>;
}

export interface BuiltComponent<T> {
  component: T;
  /** The config with its defaults filled in (what a saved model directory records). */
  config: Record<string, unknown>;
  /** A folder of files the component was read from (config.path): saving copies it into the model directory. */
  files?: string;
}

export interface BuildContext {
  seed: number;
  /** The model directory, for configs that name files relative to it. */
  dir?: string;
}

type Factory<T> = (config: Record<string, unknown>, context: BuildContext) => BuiltComponent<T>;

const registry: { [R in ComponentRole]: Map<string, Factory<DiffusionModels[R]>> } = {
  tokenizer: new Map(),
  textEncoder: new Map(),
  unet: new Map(),
  vae: new Map(),
};

/** Adds a kind of component that model directories can name. */
export function registerComponentKind<R extends ComponentRole>(role: R, kind: string, factory: Factory<DiffusionModels[R]>): void {
  (registry[role] as Map<string, Factory<DiffusionModels[R]>>).set(kind, factory);
}

export function componentKinds(role: ComponentRole): string[] {
  return [...registry[role].keys()];
}

/** Builds one component from its spec with seeded initial weights. */
export function buildComponent<R extends ComponentRole>(role: R, spec: ComponentSpec, context: BuildContext): BuiltComponent<DiffusionModels[R]> {
  const factory = (registry[role] as Map<string, Factory<DiffusionModels[R]>>).get(spec.kind);
  if (!factory) throw expected(`a ${role} kind (one of ${componentKinds(role).join(', ')})`, `${role}.kind`, spec.kind);
  return factory(spec.config ?? {}, context);
}

/** A library Tokenizer (src/tokenizers) as the pipeline's PromptTokenizer: ids padded to maxLength, no mask (as SD1.5). */
export class TokenizerIds implements PromptTokenizer {
  constructor(readonly tokenizer: Tokenizer) {}
  tokenize(prompts: string[]): Tensor {
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { padding: 'max_length' }));
    mask.dispose();
    return ids;
  }
}

/** CLIP's text model as the pipeline's TextEncoder: its last hidden state (SD1.5's encoder_hidden_states). */
export class ClipTextStates implements TextEncoder {
  constructor(readonly model: ClipTextEncoder) {}
  parameters(): Map<string, Tensor> {
    return this.model.parameters();
  }
  encode(ids: Tensor): Tensor {
    const out = this.model.forward(ids);
    out.pooled.dispose();
    out.textEmbeds?.dispose();
    return out.lastHiddenState;
  }
  to(device: Device): this {
    this.model.to(device);
    return this;
  }
  dispose(): void {
    this.model.dispose();
  }
}

/** AutoencoderKL as the pipeline's LatentCodec. */
export class KlCodec implements LatentCodec {
  constructor(readonly model: AutoencoderKL) {}
  get latentChannels(): number {
    return this.model.config.latent_channels;
  }
  get downFactor(): number {
    return this.model.downFactor;
  }
  get scalingFactor(): number {
    return this.model.scalingFactor;
  }
  parameters(): Map<string, Tensor> {
    return this.model.parameters();
  }
  encode(pixels: Tensor): Tensor {
    return this.model.encode(pixels);
  }
  decode(latents: Tensor): Tensor {
    return this.model.decode(latents);
  }
  to(device: Device): this {
    this.model.to(device);
    return this;
  }
  dispose(): void {
    this.model.dispose();
  }
}

const plain = (c: object): Record<string, unknown> => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

const wordTokenizerSchema = z.strictObject({
  /** The vocabulary after the specials ([PAD], [CLS], [SEP], [UNK]), in id order. */
  words: z.array(z.string()).min(1),
  /** Defaults to 32. */
  maxLength: z.int().min(3).default(32),
});
registerComponentKind('tokenizer', 'word', (config) => {
  const c = parseWith(wordTokenizerSchema, config, 'tokenizer.config');
  const t = WordTokenizer.fromWords(c.words, { maxLength: c.maxLength });
  return { component: new TokenizerIds(t), config: { words: t.vocab.slice(WORD_SPECIALS.length), maxLength: t.maxLength } };
});
const fileTokenizerSchema = z.strictObject({
  /** A folder with tokenizer.json, or vocab.json + merges.txt (CLIP), or vocab.txt: relative to the model directory or absolute. */
  path: z.string().min(1),
  /** Defaults to the tokenizer's (77 for CLIP). */
  maxLength: z.int().min(3).optional(),
});
registerComponentKind('tokenizer', 'files', (config, { dir }) => {
  const c = parseWith(fileTokenizerSchema, config, 'tokenizer.config');
  if (!isAbsolute(c.path) && dir === undefined) throw new TreeRewardError('INVALID_ARGUMENT', `Expected an absolute tokenizer.config.path (no model directory to resolve it in) but received ${JSON.stringify(c.path)}`);
  const folder = isAbsolute(c.path) ? c.path : resolve(dir as string, c.path);
  const t = loadTokenizer(folder, { maxLength: c.maxLength });
  return { component: new TokenizerIds(t), config: { ...c }, files: folder };
});
registerComponentKind('textEncoder', 'clip-text', (config, { seed }) => {
  const e = new ClipTextEncoder(config as never, seed);
  return { component: new ClipTextStates(e), config: plain(e.config) };
});
registerComponentKind('tokenizer', 'word-hash', (config) => {
  const t = new WordHashTokenizer(config);
  return { component: t, config: plain(t.config) };
});
registerComponentKind('textEncoder', 'tiny-text', (config, { seed }) => {
  const e = new TinyTextEncoder(config, seed);
  return { component: e, config: plain(e.config) };
});
registerComponentKind('unet', 'unet2d-condition', (config, { seed }) => {
  const u = new UNet(parseUNetConfig(config, 'unet.config'), seed);
  return { component: u, config: plain(u.config) };
});
registerComponentKind('vae', 'autoencoder-kl', (config, { seed }) => {
  const v = new AutoencoderKL(parseVaeConfig(config, 'vae.config'), seed);
  return { component: new KlCodec(v), config: plain(v.config) };
});
registerComponentKind('vae', 'identity', () => ({ component: new IdentityVae(), config: {} }));
