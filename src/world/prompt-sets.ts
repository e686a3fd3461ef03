// prompt-sets.ts: prompts that stress one dimension. Every prompt names its objects (with colors)
// and the stressed dimension's attribute; the other attributes are named half of the time. Content
// prompts have more objects and negations; layout prompts more objects. The benchmark and the
// training prompts both come from here, from different seeds, and never share a prompt.
import type { Dimension } from '../api/interfaces.js';
import type { PromptRequirements } from './prompt/index.js';
import { formatPrompt } from './prompt/index.js';
import { describeScene, sampleScene } from './scene.js';
import { Rng } from './random.js';

const NAMED_OTHERS = 0.5;

/** Requirements stressing `dimension`, drawn from `seed`. */
export function stressRequirements(dimension: Dimension, seed: number): PromptRequirements {
  const rng = new Rng(seed);
  const scene = sampleScene(seed, {
    countWeights: dimension === 'content' ? [0.2, 0.4, 0.4] : dimension === 'layout' ? [0.25, 0.35, 0.4] : [0.35, 0.35, 0.3],
    negationRate: dimension === 'content' ? 0.4 : 0.1,
  });
  const full = describeScene(scene);
  const keep = (d: Dimension) => d === dimension || rng.fork(d).chance(NAMED_OTHERS);
  return {
    objects: full.objects,
    excluded: full.excluded,
    style: keep('style') ? full.style : undefined,
    palette: keep('color') ? full.palette : undefined,
    lighting: keep('lighting') ? full.lighting : undefined,
    layout: keep('layout') ? full.layout : undefined,
    detail: keep('detail') ? full.detail : undefined,
    triggers: [],
    unknown: [],
  };
}

export function stressPrompt(dimension: Dimension, seed: number): string {
  return formatPrompt(stressRequirements(dimension, seed));
}
