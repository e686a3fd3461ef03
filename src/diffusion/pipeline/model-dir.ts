// model-dir.ts: a diffusion model on disk, and building one from a spec. A model directory holds
//   model_index.json      { format: "treereward-diffusion", version: 1, name,
//                           tokenizer, textEncoder, unet, vae: { kind, config, weights },
//                           scheduler: { kind, ... }, defaults: { size, steps, guidanceScale, ... } }
//   <role>.safetensors    each component's parameters under its own names (diffusers' for the UNet and
//                         VAE), for the components that have parameters (weights: null otherwise)
// like diffusers' model_index.json with one config per component. Loading reports missing,
// unexpected and mis-shaped weights by name.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

import { native } from '../../native/addon.js';
import { callNative, TreeRewardError } from '../../native/errors.js';
import type { Tensor } from '../../api/tensor.js';
import { fmtShape } from '../../api/validate.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import { parseWith } from '../config-check.js';
import { schedulerConfigSchema } from '../schedulers/scheduler-config.js';
import type { DiffusionModels, ParameterHolder } from '../types.js';
import { buildComponent, COMPONENT_ROLES, type ComponentRole, type ComponentSpec } from './components.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';

export const MODEL_INDEX_FILE = 'model_index.json';
export const MODEL_FORMAT = 'treereward-diffusion';

const componentSchema = z.strictObject({
  kind: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
  /** The weights file, relative to the directory; null for a component without parameters. */
  weights: z.string().min(1).nullable().optional(),
});

const defaultsSchema = z.strictObject({
  /** Output size in pixels. */
  size: z.int().min(1),
  steps: z.int().min(1).default(20),
  guidanceScale: z.number().default(7.5),
  negativePrompt: z.string().default(''),
  batchSize: z.int().min(1).default(8),
});

const specSchema = z.strictObject({
  name: z.string().min(1).default('diffusion'),
  tokenizer: componentSchema,
  textEncoder: componentSchema,
  unet: componentSchema,
  vae: componentSchema,
  scheduler: schedulerConfigSchema,
  defaults: defaultsSchema,
});

const indexSchema = specSchema.extend({
  format: z.literal(MODEL_FORMAT),
  version: z.literal(1),
});

/** What a diffusion model is built from: each component's kind and config, the scheduler and the sampling defaults. */
export type DiffusionModelSpec = z.input<typeof specSchema>;
type Spec = z.output<typeof specSchema>;

/** A built model: its components and the spec they came from (configs with defaults filled in). */
export interface DiffusionModel {
  readonly spec: Spec;
  readonly models: DiffusionModels;
  /** Folders of files components were read from (a tokenizer's vocabulary), copied into a saved directory. */
  readonly files: Partial<Record<ComponentRole, string>>;
  /** A Generator over these models with the spec's scheduler and defaults. */
  pipeline(): DiffusionPipeline;
  dispose(): void;
}

const WEIGHTS_FILE: Record<ComponentRole, string> = {
  tokenizer: 'tokenizer.safetensors', textEncoder: 'text_encoder.safetensors', unet: 'unet.safetensors', vae: 'vae.safetensors',
};

/**
 * Builds every component with seeded initial weights (unet: seed, vae: seed + 1, text encoder:
 * seed + 2); `dir` resolves configs' relative file paths.
 */
export function buildDiffusionModel(specInput: DiffusionModelSpec, seed = 0, dir?: string): DiffusionModel {
  const spec = parseWith(specSchema, specInput, 'spec');
  const offsets: Record<ComponentRole, number> = { unet: 0, vae: 1, textEncoder: 2, tokenizer: 3 };
  const built: Partial<DiffusionModels> = {};
  const files: Partial<Record<ComponentRole, string>> = {};
  try {
    for (const role of COMPONENT_ROLES) {
      const b = buildComponent(role, spec[role] as ComponentSpec, { seed: seed + offsets[role], dir });
      (built as Record<string, unknown>)[role] = b.component;
      spec[role] = { ...spec[role], config: b.config };
      if (b.files) files[role] = b.files;
    }
  } catch (err) {
    disposeModels(built);
    throw err;
  }
  const models = built as DiffusionModels;
  return {
    spec,
    models,
    files,
    pipeline: () => new DiffusionPipeline(models, { name: spec.name, scheduler: spec.scheduler, ...spec.defaults }),
    dispose: () => disposeModels(models),
  };
}

function disposeModels(models: Partial<DiffusionModels>): void {
  for (const m of Object.values(models)) (m as { dispose?: () => void } | undefined)?.dispose?.();
}

/** Writes model_index.json and one safetensors file per component with parameters (model_index.json last). */
export function saveDiffusionModel(dir: string, model: DiffusionModel): void {
  mkdirSync(dir, { recursive: true });
  const index: Record<string, unknown> = { format: MODEL_FORMAT, version: 1, name: model.spec.name };
  for (const role of COMPONENT_ROLES) {
    const params = (model.models[role] as Partial<ParameterHolder>).parameters?.() ?? new Map<string, Tensor>();
    let weights: string | null = null;
    if (params.size > 0) {
      weights = WEIGHTS_FILE[role];
      writeSafetensors(join(dir, weights), params, { role, kind: model.spec[role].kind });
    }
    let config = model.spec[role].config;
    const from = model.files[role];
    if (from) {
      // a component read from files (a tokenizer's vocabulary): copy them in as <dir>/<role>
      const to = resolve(dir, role);
      if (resolve(from) !== to) {
        rmSync(to, { recursive: true, force: true });
        cpSync(from, to, { recursive: true });
      }
      config = { ...config, path: role };
    }
    index[role] = { kind: model.spec[role].kind, config, weights };
  }
  index.scheduler = model.spec.scheduler;
  index.defaults = model.spec.defaults;
  const tmp = join(dir, `${MODEL_INDEX_FILE}.partial`);
  writeFileSync(tmp, `${JSON.stringify(index, null, 2)}\n`);
  renameSync(tmp, join(dir, MODEL_INDEX_FILE));
}

/** Reads a model directory: builds each component from its config, then loads its weights (strictly). */
export function loadDiffusionModel(dir: string): DiffusionModel {
  const path = join(dir, MODEL_INDEX_FILE);
  if (!existsSync(path)) throw new TreeRewardError('IO', `Expected a model directory with ${MODEL_INDEX_FILE} for dir but received ${JSON.stringify(dir)} (no ${MODEL_INDEX_FILE} in it)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TreeRewardError('CORRUPT_FILE', `Expected JSON in ${path} but ${(e as Error).message}`);
  }
  const index = parseWith(indexSchema, raw, MODEL_INDEX_FILE);
  const { format: _f, version: _v, ...spec } = index;
  const model = buildDiffusionModel({ ...spec, tokenizer: strip(spec.tokenizer), textEncoder: strip(spec.textEncoder), unet: strip(spec.unet), vae: strip(spec.vae) }, 0, dir);
  try {
    for (const role of COMPONENT_ROLES) {
      const file = index[role].weights;
      const params = (model.models[role] as Partial<ParameterHolder>).parameters?.() ?? new Map<string, Tensor>();
      if (!file) {
        if (params.size > 0) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a weights file for ${role} (a ${index[role].kind} with ${params.size} parameters) in ${path} but received none`);
        continue;
      }
      const { tensors } = readSafetensors(join(dir, file));
      try {
        copyParameters(params, tensors, `${role} (${join(dir, file)})`);
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

function strip(c: { kind: string; config: Record<string, unknown>; weights?: string | null }): ComponentSpec {
  return { kind: c.kind, config: c.config };
}

/**
 * Copies weights into parameters by name. Any missing, unexpected or mis-shaped name is an error
 * (SHAPE_MISMATCH) that lists them, and then nothing is copied.
 */
export function copyParameters(params: Map<string, Tensor>, weights: Map<string, Tensor>, what: string): void {
  const missing = [...params.keys()].filter((k) => !weights.has(k));
  const unexpected = [...weights.keys()].filter((k) => !params.has(k));
  const mismatched = [...weights].filter(([k, t]) => params.has(k) && fmtShape(params.get(k)!.shape) !== fmtShape(t.shape));
  if (missing.length || unexpected.length || mismatched.length) {
    const list = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`;
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} (${list(missing)})`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} (${list(unexpected)})`);
    for (const [k, t] of mismatched.slice(0, 5)) parts.push(`${k}: expected shape ${fmtShape(params.get(k)!.shape)} but received ${fmtShape(t.shape)}`);
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected weights matching the parameters of ${what} but found: ${parts.join('; ')}`);
  }
  for (const [k, p] of params) callNative(() => native().copyInto(p.handle, weights.get(k)!.handle));
}

/** Loads a model directory as a Generator. */
export function loadPipeline(dir: string): DiffusionPipeline {
  return loadDiffusionModel(dir).pipeline();
}
