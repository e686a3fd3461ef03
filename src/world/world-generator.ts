// world-generator.ts: the synthetic world as a Generator. A prompt is parsed into requirements, the
// scene is drawn from the seed with every unnamed attribute filled in, and rendered. Below quality 1
// (or with fewer steps than the reference) the render is degraded, dimension by dimension (see
// render/degrade.ts), standing in for a weaker model; an aesthetic trigger phrase in the prompt
// ("highly detailed") spares its dimension most of the damage, as trigger words help real models.
import { DIMENSIONS } from '../api/interfaces.js';
import type { Dimension, GenerateOptions, Generator, RgbImage } from '../api/interfaces.js';
import { parsePrompt } from './prompt/index.js';
import type { Scene } from './scene.js';
import { sceneFromRequirements } from './scene.js';
import { resolveScene } from './render/render-spec.js';
import { DEFAULT_SIZE, renderSpec } from './render/render-scene.js';
import type { Severity } from './render/degrade.js';
import { degradeSpec } from './render/degrade.js';
import { Rng, deriveSeed } from './random.js';

export interface WorldGeneratorOptions {
  /** Output size when a call does not ask for one. Defaults to 64. */
  size?: number;
  /** Steps at and above which steps cost no quality. Defaults to 50. */
  referenceSteps?: number;
  /** Severity left in a dimension that the prompt asks for with a trigger phrase. Defaults to 0.25. */
  triggerRelief?: number;
}

export interface WorldRender {
  image: RgbImage;
  scene: Scene;
  severity: Severity;
}

function checkOptions(options: GenerateOptions): void {
  const { quality, steps, size, degrade } = options;
  if (quality !== undefined && !(quality >= 0 && quality <= 1)) throw new Error(`Expected a number in [0, 1] for options.quality but received ${quality}`);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) throw new Error(`Expected a positive integer for options.steps but received ${steps}`);
  if (size !== undefined && !(Number.isInteger(size) && size >= 8 && size <= 1024)) throw new Error(`Expected an integer in [8, 1024] for options.size but received ${size}`);
  if (degrade !== undefined && !degrade.every((d) => (DIMENSIONS as readonly string[]).includes(d))) {
    throw new Error(`Expected dimensions from ${DIMENSIONS.join(', ')} for options.degrade but received ${JSON.stringify(degrade)}`);
  }
}

export class WorldGenerator implements Generator {
  readonly name = 'world';
  private readonly size: number;
  private readonly referenceSteps: number;
  private readonly triggerRelief: number;

  constructor(options: WorldGeneratorOptions = {}) {
    this.size = options.size ?? DEFAULT_SIZE;
    this.referenceSteps = options.referenceSteps ?? 50;
    this.triggerRelief = options.triggerRelief ?? 0.25;
  }

  /** How much each dimension is degraded for this prompt, seed and options. */
  severity(prompt: string, seed: number, options: GenerateOptions = {}): Severity {
    const stepQuality = options.steps === undefined ? 1 : Math.min(1, options.steps / this.referenceSteps);
    const base = 1 - (options.quality ?? 1) * stepQuality;
    if (base <= 0) return {};
    const triggers = new Set(parsePrompt(prompt).triggers);
    const rng = new Rng(deriveSeed(seed, 'severity'));
    const out: Severity = {};
    for (const dim of options.degrade ?? DIMENSIONS) {
      // Each dimension's damage varies a little from seed to seed, as a real model's does.
      let s = base * rng.fork(dim).float(0.8, 1.2);
      if (triggers.has(dim as Dimension)) s *= this.triggerRelief;
      out[dim as Dimension] = Math.min(1, s);
    }
    return out;
  }

  /** Renders one prompt; also returns the scene drawn and the severity applied. */
  render(prompt: string, seed: number, options: GenerateOptions = {}): WorldRender {
    checkOptions(options);
    const scene = sceneFromRequirements(parsePrompt(prompt), seed);
    const severity = this.severity(prompt, seed, options);
    let spec = resolveScene(scene);
    if (Object.keys(severity).length > 0) spec = degradeSpec(spec, severity, new Rng(deriveSeed(seed, 'degrade')));
    return { image: renderSpec(spec, options.size ?? this.size), scene, severity };
  }

  async generate(prompts: string[], seeds: number[], options: GenerateOptions = {}): Promise<RgbImage[]> {
    if (prompts.length !== seeds.length) throw new Error(`Expected as many seeds as prompts (${prompts.length}) for seeds but received ${seeds.length}`);
    checkOptions(options);
    const out: RgbImage[] = [];
    for (let i = 0; i < prompts.length; i++) {
      if (options.signal?.aborted) throw new Error('Expected generation to run to the end but it was aborted (options.signal)');
      if (!Number.isInteger(seeds[i])) throw new Error(`Expected an integer for seeds[${i}] but received ${seeds[i]}`);
      out.push(this.render(prompts[i]!, seeds[i]!, options).image);
    }
    return out;
  }
}
