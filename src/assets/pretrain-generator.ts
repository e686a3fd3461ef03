// pretrain-generator.ts: the world's base generator, the stand-in for SD1.5, in two stages on
// rendered scenes and their prompts (generator-data.ts):
//   1. the VAE: reconstruction + beta KL (trainVae); then the latents' scaling factor, 1 / std of the
//      posterior means over a fixed sample (SD's 0.18215 was found the same way);
//   2. the UNet with its CLIP text encoder, the VAE frozen: the diffusion loss of eq. 1 with 10% of
//      the captions dropped for classifier-free guidance (trainDiffusion).
// Both stages checkpoint and resume exactly (the library's loop); rerunning the command into the same
// --out goes on from the last checkpoint. Writes to `out`:
//   run.json                     the settings (a rerun with other settings is refused)
//   checkpoints/{vae,unet}/      the loops' checkpoints
//   vae.json                     the VAE stage's result (scaling factor), written when it ends
//   samples/*.png                sample grids: the model's images above the renderer's, same prompts and seeds
//   train-log.jsonl              one line per step: stage, step, loss, parts, lr, gradient norm, ms
//   model_index.json + *.safetensors   the model directory (loadPipeline(out) is the Generator)
//   half/                        the same with float16 weights (with `half`)
//   generator.json               config, command, seed, steps, time per stage, losses, code version
//   acceptance.json, acceptance.png    the acceptance measurement (generator-acceptance.ts)
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { noGrad } from '../api/autograd.js';
import { tidy } from '../api/scope.js';
import { splitMoments } from '../diffusion/latent-posterior.js';
import { buildDiffusionModel, copyParameters, type DiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { imagesToPixels, pixelsToImages } from '../diffusion/pipeline/rgb-images.js';
import { latestTrainingCheckpoint, readCheckpointState } from '../diffusion/train/train-checkpoint.js';
import { trainDiffusion } from '../diffusion/train/train-diffusion.js';
import type { TrainingProgress } from '../diffusion/train/training-loop.js';
import { trainVae } from '../diffusion/train/train-vae.js';
import type { LatentCodec } from '../diffusion/types.js';
import { TreeRewardError } from '../native/errors.js';
import { deriveSeed } from '../world/random.js';
import { codeVersion, writeJsonAtomic } from './asset-files.js';
import { acceptanceOptions, measureAcceptance, type AcceptanceReport, type AcceptanceSettings } from './generator-acceptance.js';
import { generatorScheduler, generatorSpec, resolveGeneratorConfig, type GeneratorConfig } from './generator-configs.js';
import { generatedDataset, HELD_OUT_COMBOS, heldOutContentPrompts, pretrainExample, type GeneratorExample } from './generator-data.js';
import {
  contactSheet, logLine, parameterCount, sampleSheet, saveGeneratorModel, summarizeStage, trainInSegments, writeSheet,
  type StageStep, type StageSummary,
} from './generator-training.js';
import { machineDescription } from './ship.js';

export interface PretrainGeneratorOptions {
  out: string;
  /** A config name (tiny, world, bench) or custom JSON (generator-configs.ts). Defaults to 'world'. */
  config?: string;
  vaeSteps: number;
  unetSteps: number;
  /** Images per UNet step. Defaults to 16. */
  batch?: number;
  /** Images per VAE step (its steps cost more: it works at full resolution). Defaults to batch. */
  vaeBatch?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Distinct training scenes, cycled through epoch by epoch. Defaults to 50000. */
  scenes?: number;
  /** Defaults to 1e-3. */
  vaeLr?: number;
  /** Defaults to 3e-4. */
  unetLr?: number;
  /** The VAE's KL weight beta. Defaults to 1e-6. */
  klWeight?: number;
  /** The VAE's high-frequency weight gamma (src/diffusion/train/vae-loss.ts). Defaults to 0 (off). */
  vaeHighFrequencyWeight?: number;
  /** Defaults to 0.1. */
  captionDropRate?: number;
  /** Defaults to 100. */
  checkpointEvery?: number;
  /** A sample grid every this many steps of each stage (and at each stage's end); 0: only at the ends. Defaults to 0. */
  sampleEvery?: number;
  /** Also write a float16 model directory in out/half. Defaults to false. */
  half?: boolean;
  /** The acceptance measurement at the end; null to skip it. Defaults to 20 prompts per dimension, 24 held-out. */
  acceptance?: AcceptanceSettings | null;
  /** The command line, recorded in generator.json. */
  command?: string;
  signal?: AbortSignal;
  onStep?: (step: StageStep) => void;
  /** Progress lines (grids written, stage ends). */
  log?: (line: string) => void;
}

/** What changes the weights: a rerun into the same folder must repeat these. */
interface RunSettings {
  format: 'treereward-generator-run/1';
  configName: string;
  config: GeneratorConfig;
  seed: number;
  batch: number;
  vaeBatch: number;
  scenes: number;
  vaeSteps: number;
  unetSteps: number;
  vaeLr: number;
  unetLr: number;
  klWeight: number;
  /** Present only when above 0, so runs from before it existed still resume. */
  vaeHighFrequencyWeight?: number;
  captionDropRate: number;
}

export interface GeneratorRunJson {
  format: 'treereward-world-generator/1';
  configName: string;
  config: GeneratorConfig;
  command: string;
  seed: number;
  batch: number;
  vaeBatch: number;
  scenes: number;
  heldOutCombos: string[];
  parameters: { unet: number; vae: number; textEncoder: number };
  vae: StageSummary & { lr: number; klWeight: number; highFrequencyWeight?: number; scalingFactor: number };
  unet: StageSummary & { lr: number; captionDropRate: number };
  /** Summed step time of both stages (over resumed runs too), seconds. */
  trainingSeconds: number;
  /** Wall time of this call, seconds. */
  wallSeconds: number;
  machine: string;
  codeVersion: string;
  files: string[];
  acceptance: AcceptanceReport | null;
}

export interface PretrainGeneratorReport extends GeneratorRunJson {
  out: string;
  /** The steps each stage started from in this call (0, or its checkpoint's). */
  resumedFrom: { vae: number; unet: number };
}

export function checkpointStep(dir: string): number {
  const latest = latestTrainingCheckpoint(dir);
  return latest ? readCheckpointState(latest).step : 0;
}

/** Refuses to go on in a folder whose run.json holds other settings. */
export function checkRunSettings(out: string, settings: object, what: string): void {
  const file = path.join(out, 'run.json');
  if (existsSync(file)) {
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const now = settings as Record<string, unknown>;
    const differ = Object.keys({ ...before, ...now }).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
    if (differ.length) {
      throw new TreeRewardError('INVALID_ARGUMENT', `Expected the settings of the ${what} run in ${out} to resume it but ${differ.map((k) => `${k} differs (${JSON.stringify(before[k])} there, ${JSON.stringify(now[k])} now)`).join(', ')}; use another --out for a new run`);
    }
  } else {
    mkdirSync(out, { recursive: true });
    writeJsonAtomic(file, settings);
  }
}

/** 1 / std of the VAE's posterior means over `images` (the latents the UNet sees then have unit variance). */
export function latentScalingFactor(vae: LatentCodec, images: GeneratorExample[]): number {
  let sum = 0, sq = 0, n = 0;
  for (let at = 0; at < images.length; at += 16) {
    const pixels = imagesToPixels(images.slice(at, at + 16).map((e) => e.image));
    const values = noGrad(() => tidy(() => splitMoments(vae.encode(pixels)).mean.toArray()));
    pixels.dispose();
    for (const v of values) {
      sum += v;
      sq += v * v;
    }
    n += values.length;
  }
  const std = Math.sqrt(Math.max(1e-12, sq / n - (sum / n) ** 2));
  return 1 / std;
}

/** Originals above their reconstructions (the posterior's mean decoded). */
function reconstructionSheet(vae: LatentCodec, examples: GeneratorExample[]) {
  const pixels = imagesToPixels(examples.map((e) => e.image));
  const recon = noGrad(() => tidy(() => vae.decode(splitMoments(vae.encode(pixels)).mean)));
  pixels.dispose();
  const images = pixelsToImages(recon);
  recon.dispose();
  return contactSheet(examples.map((e) => e.image), images);
}

/** Prompts of the sample grids: 12 like the training prompts, 4 naming a held-out combination. */
export function samplePrompts(seed: number, size: number): { prompts: string[]; seeds: number[] } {
  const prompts = [
    ...Array.from({ length: 12 }, (_, i) => pretrainExample(deriveSeed(seed, 'sample-grid'), i, size, { fullCaptionRate: 0.5 }).prompt),
    ...heldOutContentPrompts(deriveSeed(seed, 'sample-grid'), 4).map((p) => p.heldOut),
  ];
  return { prompts, seeds: prompts.map((_, i) => deriveSeed(seed, `sample-grid:seed:${i}`) & 0x7fffffff) };
}

export async function pretrainGenerator(options: PretrainGeneratorOptions): Promise<PretrainGeneratorReport> {
  const t0 = Date.now();
  const { name: configName, config } = resolveGeneratorConfig(options.config ?? 'world');
  const { out } = options;
  const log = options.log ?? (() => {});
  const settings: RunSettings = {
    format: 'treereward-generator-run/1', configName, config, seed: options.seed ?? 0, batch: options.batch ?? 16, vaeBatch: options.vaeBatch ?? options.batch ?? 16, scenes: options.scenes ?? 50000,
    vaeSteps: options.vaeSteps, unetSteps: options.unetSteps, vaeLr: options.vaeLr ?? 1e-3, unetLr: options.unetLr ?? 3e-4,
    klWeight: options.klWeight ?? 1e-6, captionDropRate: options.captionDropRate ?? 0.1,
    ...(options.vaeHighFrequencyWeight ? { vaeHighFrequencyWeight: options.vaeHighFrequencyWeight } : {}),
  };
  for (const k of ['vaeSteps', 'unetSteps', 'batch', 'vaeBatch', 'scenes'] as const) {
    if (!Number.isInteger(settings[k]) || settings[k] < 1) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a positive integer for ${k} but received ${settings[k]}`);
  }
  checkRunSettings(out, settings, 'generator');
  const { seed, batch, size } = { ...settings, size: config.size };
  const every = options.checkpointEvery ?? 100, sampleEvery = options.sampleEvery ?? 0;
  const data = generatedDataset(settings.scenes, (i) => pretrainExample(seed, i, size));
  const grid = samplePrompts(seed, size);
  const dirs = { vae: path.join(out, 'checkpoints', 'vae'), unet: path.join(out, 'checkpoints', 'unet') };
  const resumedFrom = { vae: checkpointStep(dirs.vae), unet: checkpointStep(dirs.unet) };
  let last = performance.now();
  const record = (stage: string, onStep: (p: TrainingProgress) => void) => (p: TrainingProgress) => {
    const now = performance.now();
    const step: StageStep = { ...p, stage, ms: now - last };
    last = now;
    logLine(out, { stage, step: p.step, loss: p.loss, parts: p.parts, lr: p.lr, gradNorm: p.gradNorm, ms: step.ms });
    options.onStep?.(step);
    onStep(p);
  };
  const warmup = (steps: number) => Math.min(200, Math.floor(steps / 10));

  // 1. the VAE: reconstruction + beta KL on the renders
  let model: DiffusionModel = buildDiffusionModel(generatorSpec(config), seed);
  let trained: DiffusionModel | null = null;
  try {
    const vae = model.models.vae;
    const sheetExamples = Array.from({ length: 16 }, (_, i) => pretrainExample(deriveSeed(seed, 'vae-grid'), i, size));
    const vaeSheet = async (step: number) => {
      await writeSheet(path.join(out, 'samples', `vae-step-${String(step).padStart(6, '0')}.png`), reconstructionSheet(vae, sheetExamples));
      log(`vae step ${step}: reconstructions written to samples/`);
      last = performance.now();
    };
    await trainInSegments((signal, onStep) => trainVae(vae, data, {
      steps: settings.vaeSteps, batchSize: settings.vaeBatch, learningRate: settings.vaeLr, warmupSteps: warmup(settings.vaeSteps), klWeight: settings.klWeight,
      highFrequencyWeight: settings.vaeHighFrequencyWeight ?? 0,
      seed, checkpointDir: dirs.vae, checkpointEvery: every, resume: true, signal, onProgress: record('vae', onStep),
    }), sampleEvery, vaeSheet, options.signal);
    const vaeJson = path.join(out, 'vae.json');
    let scalingFactor: number;
    if (existsSync(vaeJson)) {
      scalingFactor = (JSON.parse(readFileSync(vaeJson, 'utf8')) as { scalingFactor: number }).scalingFactor;
    } else {
      await vaeSheet(settings.vaeSteps);
      scalingFactor = latentScalingFactor(vae, Array.from({ length: 64 }, (_, i) => pretrainExample(deriveSeed(seed, 'latent-scale'), i, size)));
      writeJsonAtomic(vaeJson, { steps: settings.vaeSteps, scalingFactor });
      log(`vae done: latent scaling factor ${scalingFactor.toFixed(4)}`);
    }

    // 2. the UNet and its text encoder: eq. 1 with caption drop, the VAE frozen (its weights copied in)
    trained = buildDiffusionModel(generatorSpec(config, { scalingFactor }), seed);
    copyParameters(trained.models.vae.parameters(), vae.parameters(), 'the trained VAE');
    model.dispose();
    model = trained;
    const pipeline = trained.pipeline();
    const unetSheet = async (step: number) => {
      await writeSheet(path.join(out, 'samples', `unet-step-${String(step).padStart(6, '0')}.png`), await sampleSheet(pipeline, grid.prompts, grid.seeds, size));
      log(`unet step ${step}: samples written to samples/`);
      last = performance.now();
    };
    const models = trained.models;
    await trainInSegments((signal, onStep) => trainDiffusion(models, data, {
      scheduler: generatorScheduler(config.prediction), steps: settings.unetSteps, batchSize: batch, learningRate: settings.unetLr, warmupSteps: warmup(settings.unetSteps),
      captionDropRate: settings.captionDropRate, trainTextEncoder: true, seed, checkpointDir: dirs.unet, checkpointEvery: every, resume: true, signal,
      onProgress: record('unet', onStep),
    }), sampleEvery, unetSheet, options.signal);
    await unetSheet(settings.unetSteps);

    // 3. the model directory, the report, the acceptance measurement
    const files = saveGeneratorModel(out, trained, options.half ?? false);
    const vaeSummary = summarizeStage(out, 'vae', settings.vaeSteps), unetSummary = summarizeStage(out, 'unet', settings.unetSteps);
    let acceptance: AcceptanceReport | null = null;
    if (options.acceptance !== null) {
      const a = options.acceptance ?? { perDimension: 20, heldOut: 24 };
      log(`measuring acceptance on ${a.perDimension} benchmark prompts per dimension and ${a.heldOut} held-out-combination prompts`);
      const measured = await measureAcceptance(pipeline, {
        ...acceptanceOptions(a), size, keepSamples: 4, signal: options.signal,
      });
      acceptance = measured.report;
      writeJsonAtomic(path.join(out, 'acceptance.json'), acceptance);
      await writeSheet(path.join(out, 'acceptance.png'), contactSheet(measured.samples.map((s) => s.generated), measured.samples.map((s) => s.rendered)));
    }
    const json: GeneratorRunJson = {
      format: 'treereward-world-generator/1', configName, config, command: options.command ?? '', seed, batch, vaeBatch: settings.vaeBatch, scenes: settings.scenes,
      heldOutCombos: HELD_OUT_COMBOS.map((c) => `${c.color} ${c.shape}`),
      parameters: { unet: parameterCount(trained.models.unet), vae: parameterCount(trained.models.vae), textEncoder: parameterCount(trained.models.textEncoder) },
      vae: { ...vaeSummary, lr: settings.vaeLr, klWeight: settings.klWeight, ...(settings.vaeHighFrequencyWeight ? { highFrequencyWeight: settings.vaeHighFrequencyWeight } : {}), scalingFactor },
      unet: { ...unetSummary, lr: settings.unetLr, captionDropRate: settings.captionDropRate },
      trainingSeconds: vaeSummary.seconds + unetSummary.seconds, wallSeconds: (Date.now() - t0) / 1000,
      machine: machineDescription(), codeVersion: codeVersion(), files, acceptance,
    };
    writeJsonAtomic(path.join(out, 'generator.json'), json);
    return { ...json, out, resumedFrom };
  } finally {
    model.dispose();
    if (trained && trained !== model) trained.dispose();
  }
}
