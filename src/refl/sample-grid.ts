// sample-grid.ts: a grid of fixed prompts and seeds rendered by the generator being tuned, written
// as PNG every N steps, so the run can be watched (and reward hacking seen) as it goes. Sampling
// uses per-image seeds of its own: it does not touch the run's random stream.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

import { DiffusionPipeline } from '../diffusion/pipeline/diffusion-pipeline.js';
import { imageGrid, writePng } from '../diffusion/pipeline/rgb-images.js';
import type { SchedulerConfigInput } from '../diffusion/schedulers/scheduler-config.js';
import type { DiffusionModels } from '../diffusion/types.js';

export interface GridSettings {
  prompts: string[];
  seed: number;
  steps: number;
  guidanceScale: number;
  size: number;
  scheduler: SchedulerConfigInput;
}

/** Renders the grid after `step` steps to <dir>/step-<step>.png and returns its path. */
export async function writeSampleGrid(dir: string, step: number, models: DiffusionModels, g: GridSettings, signal?: AbortSignal): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const pipe = new DiffusionPipeline(models, { scheduler: g.scheduler, size: g.size, steps: g.steps, guidanceScale: g.guidanceScale });
  const seeds = g.prompts.map((_, i) => g.seed + i);
  const images = await pipe.generate(g.prompts, seeds, { signal });
  const path = join(dir, `step-${String(step).padStart(8, '0')}.png`);
  await writePng(path, imageGrid(images));
  return path;
}
