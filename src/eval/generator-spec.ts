// generator-spec.ts: what `--model` names. A diffusion model directory (model_index.json, loaded by
// src/diffusion as a Generator), or the world renderer at a quality: "world" (quality 1),
// "world:quality=0.6", "world:quality=0.6,steps=20,degrade=color+lighting". The world specs make
// the evaluation runnable without trained generators, as stand-ins for a weaker and a stronger model.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';

import { DIMENSIONS, type Dimension, type GenerateOptions, type Generator } from '../api/interfaces.js';
import { WorldGenerator } from '../world/world-generator.js';

export type GeneratorSpec =
  | { kind: 'world'; quality: number; steps?: number; degrade?: Dimension[]; label: string; spec: string }
  | { kind: 'diffusion'; dir: string; label: string; spec: string };

export interface OpenedGenerator {
  spec: GeneratorSpec;
  generator: Generator;
  /** Options every generate call gets (the world's quality). */
  options: GenerateOptions;
  dispose(): void;
}

function worldSpec(spec: string): GeneratorSpec {
  const body = spec.slice('world'.length);
  let quality = 1;
  let steps: number | undefined;
  let degrade: Dimension[] | undefined;
  if (body !== '') {
    if (!body.startsWith(':') || body.length === 1) throw new Error(`Expected "world" or "world:key=value,..." for --model but received ${JSON.stringify(spec)}`);
    for (const part of body.slice(1).split(',')) {
      const [key, value, ...rest] = part.split('=');
      if (value === undefined || rest.length) throw new Error(`Expected key=value in ${JSON.stringify(spec)} but received ${JSON.stringify(part)}`);
      if (key === 'quality') {
        quality = Number(value);
        if (value.trim() === '' || !(quality >= 0 && quality <= 1)) throw new Error(`Expected a number in [0, 1] for quality in ${JSON.stringify(spec)} but received ${JSON.stringify(value)}`);
      } else if (key === 'steps') {
        steps = Number(value);
        if (!/^\d+$/.test(value) || steps < 1) throw new Error(`Expected a positive integer for steps in ${JSON.stringify(spec)} but received ${JSON.stringify(value)}`);
      } else if (key === 'degrade') {
        const dims = value.split('+');
        const bad = dims.filter((d) => !(DIMENSIONS as readonly string[]).includes(d));
        if (bad.length) throw new Error(`Expected dimensions from ${DIMENSIONS.join(', ')} (joined by +) for degrade in ${JSON.stringify(spec)} but received ${JSON.stringify(bad.join('+'))}`);
        degrade = dims as Dimension[];
      } else {
        throw new Error(`Expected quality, steps or degrade in ${JSON.stringify(spec)} but received ${JSON.stringify(key)}`);
      }
    }
  }
  const label = `world@q${quality}${steps ? `,${steps}steps` : ''}${degrade ? `,${degrade.join('+')}` : ''}`;
  return { kind: 'world', quality, steps, degrade, label, spec };
}

/** Parses a generator spec; a directory must exist (its contents are checked when it is opened). */
export function parseGeneratorSpec(spec: string, name = '--model'): GeneratorSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw new Error(`Expected a model directory or world[:quality=Q] for ${name} but received ${JSON.stringify(spec)}`);
  if (spec === 'world' || spec.startsWith('world:')) return worldSpec(spec);
  const dir = resolve(spec);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`Expected a diffusion model directory or world[:quality=Q] for ${name} but received ${JSON.stringify(spec)} (no such directory)`);
  }
  return { kind: 'diffusion', dir, label: basename(dir), spec };
}

/** Builds the Generator a spec names (a diffusion directory is loaded with its weights). */
export async function openGenerator(spec: GeneratorSpec): Promise<OpenedGenerator> {
  if (spec.kind === 'world') {
    const options: GenerateOptions = { quality: spec.quality };
    if (spec.steps !== undefined) options.steps = spec.steps;
    if (spec.degrade !== undefined) options.degrade = spec.degrade;
    return { spec, generator: new WorldGenerator(), options, dispose() {} };
  }
  // Loaded lazily: the diffusion code (and its native models) only when a directory is evaluated.
  const { loadDiffusionModel } = await import('../diffusion/pipeline/model-dir.js');
  const model = loadDiffusionModel(spec.dir);
  return { spec, generator: model.pipeline(), options: {}, dispose: () => model.dispose() };
}
