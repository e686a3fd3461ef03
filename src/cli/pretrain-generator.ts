// pretrain-generator.ts: `treereward pretrain generator --out DIR [--config tiny|world|bench|JSON]
// [--vae-steps N] [--unet-steps N] [--batch B] [--seed S] [--sample-every N] [--half] [--json]` (the
// base generator, the stand-in for SD1.5) and `treereward finetune generator --base DIR --out DIR2
// [--steps N] ...` (its fine-tune on the renderer's best images, the stand-in for SD1.5*). Both end
// with the acceptance measurement (--acceptance-prompts 100 for the whole benchmark; --no-acceptance
// to skip). Rerunning a command into the same --out resumes from its last checkpoint; Ctrl-C stops
// between steps (a checkpoint is written).
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { formatAcceptance, type AcceptanceSettings } from '../assets/generator-acceptance.js';
import { finetuneGenerator, formatChange, type FinetuneGeneratorReport } from '../assets/finetune-generator.js';
import { GENERATOR_CONFIGS } from '../assets/generator-configs.js';
import type { StageStep } from '../assets/generator-training.js';
import { pretrainGenerator, type PretrainGeneratorReport } from '../assets/pretrain-generator.js';
import { shipGenerator } from '../assets/ship-generator.js';
import { integer, nonEmpty, positiveInt, progressBar, type Progress } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface CommonOptions {
  out?: string;
  batch: string;
  seed: string;
  checkpointEvery: string;
  sampleEvery: string;
  acceptance: boolean;
  acceptancePrompts: string;
  heldOut: string;
  acceptanceSteps?: string;
  guidance?: string;
  half?: boolean;
  json?: boolean;
}

interface PretrainOptions extends CommonOptions {
  config: string;
  vaeSteps: string;
  vaeBatch?: string;
  unetSteps: string;
  scenes: string;
  vaeLr?: string;
  unetLr?: string;
  vaeHfWeight?: string;
}

interface FinetuneOptions extends CommonOptions {
  base?: string;
  steps: string;
  prompts: string;
  candidates: string;
  lr?: string;
  trainTextEncoder?: boolean;
}

function positiveNumber(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new Error(`Expected a positive number for ${name} but received ${JSON.stringify(value)}`);
  return x;
}

function nonNegativeInt(value: string, name: string): number {
  const n = integer(value, name);
  if (n < 0) throw new Error(`Expected a non-negative integer for ${name} but received ${JSON.stringify(value)}`);
  return n;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--out <dir>', 'output folder: the model directory, checkpoints, samples, reports (resumed from when it holds a checkpoint)')
    .option('--batch <n>', 'images per step', '16')
    .option('--seed <n>', 'seed of the weights, the data and the noise', '0')
    .option('--checkpoint-every <n>', 'steps between checkpoints', '100')
    .option('--sample-every <n>', 'steps between sample grids in <out>/samples (0: only at the end)', '200')
    .option('--no-acceptance', 'skip the acceptance measurement at the end')
    .option('--acceptance-prompts <n>', 'benchmark prompts per dimension for the acceptance measurement (100: all)', '20')
    .option('--held-out <n>', 'prompts naming held-out object-color combinations for the acceptance measurement', '24')
    .option('--acceptance-steps <n>', "denoising steps of the acceptance samples (defaults to the model's)")
    .option('--guidance <scale>', "classifier-free guidance of the acceptance samples (defaults to the model's)")
    .option('--half', 'also write a float16 model directory in <out>/half (for assets/)')
    .option('--json', 'print the report as one JSON document');
}

function parsedCommon(opts: CommonOptions) {
  const acceptancePrompts = positiveInt(opts.acceptancePrompts, '--acceptance-prompts');
  if (acceptancePrompts > 100) throw new Error(`Expected at most 100 (the benchmark's prompts per dimension) for --acceptance-prompts but received ${JSON.stringify(opts.acceptancePrompts)}`);
  const acceptance: AcceptanceSettings | null = opts.acceptance === false ? null : {
    perDimension: acceptancePrompts,
    heldOut: nonNegativeInt(opts.heldOut, '--held-out'),
    ...(opts.acceptanceSteps !== undefined ? { steps: positiveInt(opts.acceptanceSteps, '--acceptance-steps') } : {}),
    ...(opts.guidance !== undefined ? { guidanceScale: positiveNumber(opts.guidance, '--guidance') } : {}),
  };
  return {
    out: resolve(nonEmpty(opts.out, '--out')),
    batch: positiveInt(opts.batch, '--batch'),
    seed: nonNegativeInt(opts.seed, '--seed'),
    checkpointEvery: positiveInt(opts.checkpointEvery, '--checkpoint-every'),
    sampleEvery: nonNegativeInt(opts.sampleEvery, '--sample-every'),
    acceptance,
    half: opts.half ?? false,
  };
}

/** The options that change the result, spelled out as parsed (what reruns this run). */
function canonicalTail(c: ReturnType<typeof parsedCommon>): string[] {
  return ['--batch', String(c.batch), '--seed', String(c.seed), ...(c.half ? ['--half'] : [])];
}

const quote = (s: string) => (/^[\w./=:-]+$/.test(s) ? s : JSON.stringify(s));

/** Ctrl-C as an abort, a progress bar per stage on stderr, log lines on stderr (unless --json). */
async function withProgress<T>(json: boolean, totals: Record<string, number>, fn: (h: { signal: AbortSignal; onStep: (s: StageStep) => void; log: (l: string) => void }) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  let bar: Progress | null = null;
  let stage = '';
  try {
    return await fn({
      signal: stop.signal,
      onStep: (s) => {
        if (json) return;
        if (s.stage !== stage) {
          bar?.stop();
          stage = s.stage;
          bar = progressBar(s.stage, totals[s.stage] ?? s.totalSteps);
        }
        bar?.update(s.step);
      },
      log: (line) => {
        if (!json) process.stderr.write(`\n${line}\n`);
      },
    });
  } finally {
    (bar as Progress | null)?.stop();
    offSignals();
  }
}

function printPretrain(r: PretrainGeneratorReport): void {
  const p = r.parameters;
  console.log(`pretrained the world generator (${r.configName}: UNet ${p.unet}, VAE ${p.vae}, text encoder ${p.textEncoder} parameters) in ${r.out}`);
  console.log(`vae: ${r.vae.steps} steps, ${r.vae.msPerStep.toFixed(0)} ms/step, loss ${r.vae.losses.first?.toFixed(4)} -> ${r.vae.losses.lastMean?.toFixed(4)}, latent scaling factor ${r.vae.scalingFactor.toFixed(4)}`);
  console.log(`unet: ${r.unet.steps} steps, ${r.unet.msPerStep.toFixed(0)} ms/step, loss ${r.unet.losses.first?.toFixed(4)} -> ${r.unet.losses.lastMean?.toFixed(4)}`);
  console.log(`training time ${(r.trainingSeconds / 60).toFixed(1)} min on ${r.machine}`);
  if (r.acceptance) for (const line of formatAcceptance(r.acceptance)) console.log(line);
}

function printFinetune(r: FinetuneGeneratorReport): void {
  console.log(`fine-tuned ${r.base.dir} on the renderer's best images into ${r.out}: ${r.finetune.steps} steps, ${r.finetune.msPerStep.toFixed(0)} ms/step, loss ${r.finetune.losses.first?.toFixed(4)} -> ${r.finetune.losses.lastMean?.toFixed(4)}`);
  console.log(`data: mean judge score of the kept renders ${r.data.kept.toFixed(3)} vs ${r.data.candidates.toFixed(3)} over all candidates (${r.data.n} prompts)`);
  if (r.acceptance) {
    for (const line of formatAcceptance(r.acceptance.tuned)) console.log(line);
    for (const line of formatChange(r.acceptance.change)) console.log(line);
  }
}

export function register(program: Command): void {
  const pretrain = program.commands.find((c) => c.name() === 'pretrain')
    ?? program.command('pretrain').description("the world's pretrained models (assets/)");
  const configs = Object.keys(GENERATOR_CONFIGS);
  common(pretrain.command('generator').description("the world's base generator (the stand-in for SD1.5): a VAE, then a UNet with its text encoder (eq. 1) on rendered scenes"))
    .option('--config <name|json>', `model size: ${configs.join(', ')}, or a JSON object or file { base, size, unet, vae, text, steps }`, 'world')
    .option('--vae-steps <n>', 'VAE optimizer steps', '600')
    .option('--vae-batch <n>', 'images per VAE step (defaults to --batch)')
    .option('--unet-steps <n>', 'UNet optimizer steps', '3000')
    .option('--scenes <n>', 'distinct training scenes, cycled through', '50000')
    .option('--vae-lr <x>', 'peak learning rate of the VAE (defaults to 1e-3)')
    .option('--unet-lr <x>', 'peak learning rate of the UNet and text encoder (defaults to 3e-4)')
    .option('--vae-hf-weight <x>', "weight of the VAE's high-frequency term, an L1 on each channel's Laplacian (default 0: pixel MSE + KL only)")
    .action(async (opts: PretrainOptions) => {
      const c = parsedCommon(opts);
      const o = {
        ...c,
        config: nonEmpty(opts.config, '--config'),
        vaeSteps: positiveInt(opts.vaeSteps, '--vae-steps'),
        vaeBatch: positiveInt(opts.vaeBatch ?? opts.batch, '--vae-batch'),
        unetSteps: positiveInt(opts.unetSteps, '--unet-steps'),
        scenes: positiveInt(opts.scenes, '--scenes'),
        vaeLr: opts.vaeLr === undefined ? undefined : positiveNumber(opts.vaeLr, '--vae-lr'),
        unetLr: opts.unetLr === undefined ? undefined : positiveNumber(opts.unetLr, '--unet-lr'),
        vaeHighFrequencyWeight: opts.vaeHfWeight === undefined ? undefined : positiveNumber(opts.vaeHfWeight, '--vae-hf-weight'),
      };
      const command = ['treereward', 'pretrain', 'generator', '--out', quote(nonEmpty(opts.out, '--out')), '--config', quote(o.config),
        '--vae-steps', String(o.vaeSteps), '--vae-batch', String(o.vaeBatch), '--unet-steps', String(o.unetSteps), '--scenes', String(o.scenes),
        ...(o.vaeLr ? ['--vae-lr', String(o.vaeLr)] : []), ...(o.unetLr ? ['--unet-lr', String(o.unetLr)] : []),
        ...(o.vaeHighFrequencyWeight ? ['--vae-hf-weight', String(o.vaeHighFrequencyWeight)] : []), ...canonicalTail(c)].join(' ');
      const report = await withProgress(opts.json ?? false, { vae: o.vaeSteps, unet: o.unetSteps }, (h) => pretrainGenerator({ ...o, command, ...h }));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printPretrain(report);
    });

  const finetune = program.commands.find((c) => c.name() === 'finetune')
    ?? program.command('finetune').description('supervised fine-tunes of the world generator');
  common(finetune.command('generator').description("the base generator fine-tuned with eq. 1 on the renderer's best images (the stand-in for the JourneyDB-tuned SD1.5*)"))
    .requiredOption('--base <dir>', 'the base model directory (from `treereward pretrain generator`)')
    .option('--steps <n>', 'optimizer steps', '600')
    .option('--prompts <n>', 'distinct training prompts, each with its best render', '2000')
    .option('--candidates <n>', 'renders per prompt the best is chosen from (by mean judge score)', '4')
    .option('--lr <x>', 'peak learning rate (defaults to 1e-4)')
    .option('--train-text-encoder', 'train the text encoder too')
    .action(async (opts: FinetuneOptions) => {
      const c = parsedCommon(opts);
      const o = {
        ...c,
        base: nonEmpty(opts.base, '--base'),
        steps: positiveInt(opts.steps, '--steps'),
        prompts: positiveInt(opts.prompts, '--prompts'),
        candidates: positiveInt(opts.candidates, '--candidates'),
        lr: opts.lr === undefined ? undefined : positiveNumber(opts.lr, '--lr'),
        trainTextEncoder: opts.trainTextEncoder ?? false,
      };
      const command = ['treereward', 'finetune', 'generator', '--base', quote(o.base), '--out', quote(nonEmpty(opts.out, '--out')), '--steps', String(o.steps),
        '--prompts', String(o.prompts), '--candidates', String(o.candidates), ...(o.lr ? ['--lr', String(o.lr)] : []),
        ...(o.trainTextEncoder ? ['--train-text-encoder'] : []), ...canonicalTail(c)].join(' ');
      const report = await withProgress(opts.json ?? false, { finetune: o.steps }, (h) => finetuneGenerator({ ...o, command, ...h }));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printFinetune(report);
    });

  pretrain.command('ship-generator')
    .description("copy a finished generator run's float16 model directory and reports into assets/<name>/ and record them in assets/manifest.json")
    .requiredOption('--run <dir>', 'the run folder (made with --half)')
    .requiredOption('--name <name>', 'asset name, e.g. world-generator')
    .option('--assets <dir>', 'the assets folder', 'assets')
    .option('--note <text>', 'how the size was chosen, and the machine it was measured on (recorded in the manifest)')
    .option('--json', 'print the manifest entry as JSON')
    .action((opts: { run?: string; name?: string; assets: string; note?: string; json?: boolean }) => {
      const name = nonEmpty(opts.name, '--name');
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`Expected a lower-case name of letters, digits and hyphens for --name but received ${JSON.stringify(name)}`);
      const entry = shipGenerator({ run: resolve(nonEmpty(opts.run, '--run')), assets: resolve(opts.assets), name, sizeNote: opts.note });
      if (opts.json) console.log(JSON.stringify(entry, null, 2));
      else for (const [f, m] of Object.entries(entry.files)) console.log(`${f}  ${(m.bytes / 2 ** 20).toFixed(2)} MB  sha256 ${m.sha256}`);
    });
}
