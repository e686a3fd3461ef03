// sample.ts: `treereward sample --model DIR --prompt "..." [--n 4] [--steps 20] [--seed 0]
// [--guidance S] [--scheduler KIND] [--size PX] --out grid.png [--json]`: generates n images of one
// prompt from a model directory (seeds seed, seed + 1, ...) and writes them as one PNG grid.
// Ctrl-C stops between denoising steps.
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { loadDiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { imageGrid, writePng } from '../diffusion/pipeline/rgb-images.js';
import { SCHEDULER_KINDS, type SchedulerKind } from '../diffusion/schedulers/scheduler-config.js';
import { integer, nonEmpty, oneOf, positiveInt, progressBar } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface SampleCliOptions {
  model?: string;
  prompt?: string;
  n: string;
  steps?: string;
  seed: string;
  guidance?: string;
  scheduler?: string;
  size?: string;
  out?: string;
  json?: boolean;
}

function finiteNumber(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new Error(`Expected a number for ${name} but received ${JSON.stringify(value)}`);
  return x;
}

export interface SampleReport {
  ok: true;
  out: string;
  model: string;
  prompt: string;
  seeds: number[];
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerKind;
  size: number;
  grid: { width: number; height: number; columns: number };
  seconds: number;
}

export function register(program: Command): void {
  program
    .command('sample')
    .description('generate images of a prompt with a diffusion model directory and write them as a PNG grid')
    .requiredOption('--model <dir>', 'model directory (model_index.json and safetensors)')
    .requiredOption('--prompt <text>', 'the prompt')
    .option('--n <count>', 'images (seeds seed, seed + 1, ...)', '4')
    .option('--steps <n>', "denoising steps (defaults to the model's)")
    .option('--seed <n>', 'seed of the first image', '0')
    .option('--guidance <scale>', "classifier-free guidance scale (defaults to the model's; 1 = none)")
    .option('--scheduler <kind>', `sampler: ${SCHEDULER_KINDS.join(', ')} (defaults to the model's)`)
    .option('--size <px>', "image size (defaults to the model's)")
    .requiredOption('--out <file>', 'the PNG grid to write')
    .option('--json', 'print a report as one JSON document')
    .action(async (opts: SampleCliOptions) => {
      const dir = nonEmpty(opts.model, '--model');
      const prompt = nonEmpty(opts.prompt, '--prompt');
      const n = positiveInt(opts.n, '--n');
      const seed = integer(opts.seed, '--seed');
      if (seed < 0) throw new Error(`Expected a non-negative integer for --seed but received ${JSON.stringify(opts.seed)}`);
      const out = resolve(nonEmpty(opts.out, '--out'));
      const steps = opts.steps === undefined ? undefined : positiveInt(opts.steps, '--steps');
      const guidanceScale = opts.guidance === undefined ? undefined : finiteNumber(opts.guidance, '--guidance');
      const kind = opts.scheduler === undefined ? undefined : oneOf(opts.scheduler, SCHEDULER_KINDS, '--scheduler');
      const size = opts.size === undefined ? undefined : positiveInt(opts.size, '--size');
      const t0 = Date.now();
      const model = loadDiffusionModel(dir);
      const stop = new AbortController();
      const offSignals = onStopSignals(() => stop.abort());
      const bar = opts.json ? { update() {}, stop() {} } : progressBar('sample', 1);
      try {
        const pipe = model.pipeline();
        const seeds = Array.from({ length: n }, (_, i) => seed + i);
        const images = await pipe.generate(seeds.map(() => prompt), seeds, {
          steps, guidanceScale, size, signal: stop.signal,
          scheduler: kind ? { kind } : undefined,
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.stop();
        const columns = Math.ceil(Math.sqrt(n));
        const grid = imageGrid(images, columns);
        await writePng(out, grid);
        const report: SampleReport = {
          ok: true, out, model: dir, prompt, seeds, steps: steps ?? pipe.steps, guidanceScale: guidanceScale ?? pipe.guidanceScale,
          scheduler: kind ?? pipe.scheduler.kind, size: size ?? pipe.size, grid: { width: grid.width, height: grid.height, columns },
          seconds: (Date.now() - t0) / 1000,
        };
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else console.log(`wrote ${n} images (${report.size}px, ${report.steps} ${report.scheduler} steps, guidance ${report.guidanceScale}) to ${out} in ${report.seconds.toFixed(1)} s`);
      } finally {
        bar.stop();
        offSignals();
        model.dispose();
      }
    });
}
