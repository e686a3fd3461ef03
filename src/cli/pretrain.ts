// pretrain.ts: `treereward pretrain blip|clip --out DIR [--config world] [--steps N] [--batch B]
// [--seed S] [--lr X] [--checkpoint-every N] [--half] [--json]`: the world's pretrained encoders.
// Rerunning a command into the same --out resumes from its last checkpoint; Ctrl-C stops between
// steps (the last checkpoint is kept).
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { pretrainBlip, type PretrainBlipReport } from '../assets/pretrain-blip.js';
import { pretrainClip, type PretrainClipReport } from '../assets/pretrain-clip.js';
import type { StepInfo } from '../assets/pretrain-loop.js';
import { shipAsset } from '../assets/ship.js';
import { WORLD_BLIP_CONFIGS, WORLD_CLIP_CONFIGS } from '../assets/world-configs.js';
import { integer, nonEmpty, oneOf, positiveInt, progressBar } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface PretrainCliOptions {
  out?: string;
  config: string;
  steps: string;
  batch: string;
  scenes?: string;
  seed: string;
  lr?: string;
  checkpointEvery: string;
  heldOut: string;
  half?: boolean;
  json?: boolean;
}

function positiveNumber(value: string, name: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new Error(`Expected a positive number for ${name} but received ${JSON.stringify(value)}`);
  return x;
}

function common(cmd: Command, configs: readonly string[], steps: string): Command {
  return cmd
    .requiredOption('--out <dir>', 'output folder (resumed from when it holds a checkpoint)')
    .option('--config <name>', `model size: ${configs.join(', ')}`, 'world')
    .option('--steps <n>', 'optimizer steps', steps)
    .option('--batch <n>', 'image-text pairs per step', '32')
    .option('--scenes <n>', 'distinct training scenes, cycled through (defaults to a new scene for every pair)')
    .option('--seed <n>', 'seed of the weights, the scenes and the negatives', '0')
    .option('--lr <x>', 'peak learning rate (defaults to 3e-4)')
    .option('--checkpoint-every <n>', 'steps between checkpoints (and held-out checks)', '200')
    .option('--held-out <n>', 'held-out scenes for retrieval R@1', '256')
    .option('--half', 'also write float16 weights (for assets/)')
    .option('--json', 'print the report as one JSON document');
}

function parsed(opts: PretrainCliOptions, configs: readonly string[]) {
  const seed = integer(opts.seed, '--seed');
  if (seed < 0) throw new Error(`Expected a non-negative integer for --seed but received ${JSON.stringify(opts.seed)}`);
  return {
    out: resolve(nonEmpty(opts.out, '--out')),
    config: oneOf(opts.config, configs, '--config'),
    steps: positiveInt(opts.steps, '--steps'),
    batch: positiveInt(opts.batch, '--batch'),
    scenes: opts.scenes === undefined ? undefined : positiveInt(opts.scenes, '--scenes'),
    seed,
    lr: opts.lr === undefined ? undefined : positiveNumber(opts.lr, '--lr'),
    checkpointEvery: positiveInt(opts.checkpointEvery, '--checkpoint-every'),
    heldOut: positiveInt(opts.heldOut, '--held-out'),
    half: opts.half ?? false,
  };
}

/** The command line that reruns this run exactly: every option spelled out, as parsed. */
function canonicalCommand(what: string, opts: PretrainCliOptions, o: ReturnType<typeof parsed>, extra: string[] = []): string {
  const out = nonEmpty(opts.out, '--out');
  const parts = ['treereward', 'pretrain', what, '--out', /^[\w./-]+$/.test(out) ? out : JSON.stringify(out),
    '--config', o.config, '--steps', String(o.steps), '--batch', String(o.batch), ...(o.scenes ? ['--scenes', String(o.scenes)] : []),
    '--seed', String(o.seed), ...(o.lr ? ['--lr', String(o.lr)] : []), '--checkpoint-every', String(o.checkpointEvery), '--held-out', String(o.heldOut), ...extra,
    ...(o.half ? ['--half'] : [])];
  return parts.join(' ');
}

/** Runs `fn` with a progress bar, Ctrl-C as an abort, and log lines on stderr (unless --json). */
async function withProgress<T>(label: string, steps: number, json: boolean, fn: (h: { signal: AbortSignal; onStep: (i: StepInfo) => void; log: (l: string) => void }) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  const bar = json ? { update() {}, stop() {} } : progressBar(label, steps);
  try {
    return await fn({
      signal: stop.signal,
      onStep: (i) => bar.update(i.step),
      log: (line) => {
        if (!json) process.stderr.write(`\n${line}\n`);
      },
    });
  } finally {
    bar.stop();
    offSignals();
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function printBlip(r: PretrainBlipReport): void {
  const ret = r.metrics.retrieval;
  console.log(`${r.stopped ? 'stopped' : 'pretrained'} world BLIP (${r.configName}, ${r.parameters} parameters) to step ${r.steps} in ${r.out}: ${r.msPerStep.toFixed(0)} ms/step`);
  console.log(`held-out R@1 over ${ret.n}: image->text ${pct(ret.imageToText)}, text->image ${pct(ret.textToImage)} (chance ${pct(ret.chance)})`);
  if (r.metrics.matching) {
    const m = r.metrics.matching;
    console.log(`ITM prefers the true caption to one edited in: ${Object.entries(m.accuracy).map(([d, a]) => `${d} ${pct(a)}`).join(', ')} (mean ${pct(m.mean)}, n ${m.n})`);
  }
}

function printClip(r: PretrainClipReport): void {
  const ret = r.metrics.retrieval;
  console.log(`${r.stopped ? 'stopped' : 'pretrained'} world CLIP (${r.configName}, ${r.parameters} parameters) to step ${r.steps} in ${r.out}: ${r.msPerStep.toFixed(0)} ms/step`);
  console.log(`held-out R@1 over ${ret.n}: image->text ${pct(ret.imageToText)}, text->image ${pct(ret.textToImage)} (chance ${pct(ret.chance)})`);
  if (r.metrics.aesthetic) console.log(`aesthetic head: Spearman ${r.metrics.aesthetic.spearman.toFixed(3)} with the judges' mean over ${r.metrics.aesthetic.n} held-out renders`);
}

export function register(program: Command): void {
  const pretrain = program.commands.find((c) => c.name() === 'pretrain')
    ?? program.command('pretrain').description("the world's pretrained models (assets/): BLIP, CLIP with its aesthetic head");
  const blipConfigs = Object.keys(WORLD_BLIP_CONFIGS);
  common(pretrain.command('blip').description("the world's BLIP backbone: image-text contrastive + matching on rendered scenes and their captions"), blipConfigs, '600')
    .action(async (opts: PretrainCliOptions) => {
      const o = parsed(opts, blipConfigs);
      const command = canonicalCommand('blip', opts, o);
      const report = await withProgress('pretrain blip', o.steps, opts.json ?? false, (h) => pretrainBlip({ ...o, command, config: o.config as keyof typeof WORLD_BLIP_CONFIGS, ...h }));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printBlip(report);
    });
  const clipConfigs = Object.keys(WORLD_CLIP_CONFIGS);
  common(pretrain.command('clip').description("the world's CLIP (contrastive dual encoder) and an aesthetic head on its image embedding"), clipConfigs, '600')
    .option('--aesthetic-renders <n>', 'renders the aesthetic head trains on', '2048')
    .action(async (opts: PretrainCliOptions & { aestheticRenders: string }) => {
      const o = parsed(opts, clipConfigs);
      const aestheticRenders = positiveInt(opts.aestheticRenders, '--aesthetic-renders');
      const command = canonicalCommand('clip', opts, o, ['--aesthetic-renders', String(aestheticRenders)]);
      const report = await withProgress('pretrain clip', o.steps, opts.json ?? false, (h) => pretrainClip({ ...o, command, config: o.config as keyof typeof WORLD_CLIP_CONFIGS, aestheticRenders, ...h }));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printClip(report);
    });
  pretrain.command('ship')
    .description("copy a finished run's float16 weights and JSON into assets/<name>/ and record them in assets/manifest.json")
    .requiredOption('--run <dir>', 'the run folder (made with --half)')
    .requiredOption('--name <name>', 'asset name, e.g. world-blip')
    .option('--assets <dir>', 'the assets folder', 'assets')
    .option('--note <text>', 'how the size was chosen, and the machine it was measured on (recorded in the manifest)')
    .option('--json', 'print the manifest entry as JSON')
    .action((opts: { run?: string; name?: string; assets: string; note?: string; json?: boolean }) => {
      const name = nonEmpty(opts.name, '--name');
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`Expected a lower-case name of letters, digits and hyphens for --name but received ${JSON.stringify(name)}`);
      const entry = shipAsset({ run: resolve(nonEmpty(opts.run, '--run')), assets: resolve(opts.assets), name, sizeNote: opts.note });
      if (opts.json) console.log(JSON.stringify(entry, null, 2));
      else for (const [f, m] of Object.entries(entry.files)) console.log(`${f}  ${(m.bytes / 2 ** 20).toFixed(2)} MB  sha256 ${m.sha256}`);
    });
}
