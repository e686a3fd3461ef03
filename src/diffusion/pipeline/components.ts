// components.ts: the kinds of tokenizer, text encoder, UNet and VAE a model directory can name, each
// built from its config and a seed: the native UNet and AutoencoderKL (src/models) and the small
// stand-ins (src/diffusion/tiny). New kinds (CLIP's tokenizer and text model) register here.
import { parseUNetConfig, parseVaeConfig } from '../../models/configs.js';
import { AutoencoderKL } from '../../models/vae.js';
import { UNet } from '../../models/unet.js';
import type { Tensor } from '../../api/tensor.js';
import { expected } from '../../native/errors.js';
import { IdentityVae } from '../tiny/identity-vae.js';
import { TinyTextEncoder } from '../tiny/tiny-text-encoder.js';
import { WordHashTokenizer } from '../tiny/word-hash-tokenizer.js';
import type { DiffusionModels, LatentCodec } from '../types.js';

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
}

type Factory<T> = (config: Record<string, unknown>, seed: number) => BuiltComponent<T>;

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
export function buildComponent<R extends ComponentRole>(role: R, spec: ComponentSpec, seed: number): BuiltComponent<DiffusionModels[R]> {
  const factory = (registry[role] as Map<string, Factory<DiffusionModels[R]>>).get(spec.kind);
  if (!factory) throw expected(`a ${role} kind (one of ${componentKinds(role).join(', ')})`, `${role}.kind`, spec.kind);
  return factory(spec.config ?? {}, seed);
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
  dispose(): void {
    this.model.dispose();
  }
}

const plain = (c: object): Record<string, unknown> => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

registerComponentKind('tokenizer', 'word-hash', (config) => {
  const t = new WordHashTokenizer(config);
  return { component: t, config: plain(t.config) };
});
registerComponentKind('textEncoder', 'tiny-text', (config, seed) => {
  const e = new TinyTextEncoder(config, seed);
  return { component: e, config: plain(e.config) };
});
registerComponentKind('unet', 'unet2d-condition', (config, seed) => {
  const u = new UNet(parseUNetConfig(config, 'unet.config'), seed);
  return { component: u, config: plain(u.config) };
});
registerComponentKind('vae', 'autoencoder-kl', (config, seed) => {
  const v = new AutoencoderKL(parseVaeConfig(config, 'vae.config'), seed);
  return { component: new KlCodec(v), config: plain(v.config) };
});
registerComponentKind('vae', 'identity', () => ({ component: new IdentityVae(), config: {} }));
