// ship-generator.ts: a finished generator run (pretraining or fine-tune, made with --half) into
// assets/<name>/ as a model directory with float16 weights, with its report and acceptance figures,
// and an entry in assets/manifest.json (command, seed, code version, training time, machine, the
// acceptance ratios, every file's SHA-256; other assets' entries are kept). loadShippedGenerator
// checks the hashes before loading.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { loadDiffusionModel, MODEL_INDEX_FILE, type DiffusionModel } from '../diffusion/pipeline/model-dir.js';
import { TreeRewardError } from '../native/errors.js';
import { checkAssetsBudget, folderBytes, recordAsset, verifyAgainstManifest, type ManifestEntry } from './asset-files.js';
import type { AcceptanceReport } from './generator-acceptance.js';

export interface ShipGeneratorOptions {
  /** The run folder: generator.json or finetune.json, and half/ with the float16 model directory. */
  run: string;
  /** Defaults to 'assets'. */
  assets?: string;
  /** The asset's folder and manifest key, e.g. 'world-generator'. */
  name: string;
  /** How the size was chosen (recorded in the manifest). */
  sizeNote?: string;
}

const ratios = (a: AcceptanceReport | null | undefined) => a && {
  perDimension: a.perDimension,
  ratios: Object.fromEntries(a.dimensions.map((d) => [d.dimension, Number(d.ratio.toFixed(4))])),
  heldOutContent: Number(a.content.heldOut.ratio.toFixed(4)),
  controlContent: Number(a.content.control.ratio.toFixed(4)),
};

export function shipGenerator(options: ShipGeneratorOptions): ManifestEntry {
  const assets = options.assets ?? 'assets';
  const reportFile = ['generator.json', 'finetune.json'].find((f) => existsSync(path.join(options.run, f)));
  if (!reportFile) throw new TreeRewardError('IO', `Expected a finished generator run (generator.json or finetune.json) in ${options.run} but found neither`);
  const half = path.join(options.run, 'half');
  if (!existsSync(path.join(half, MODEL_INDEX_FILE))) throw new TreeRewardError('IO', `Expected a float16 model directory in ${half} (run the command with --half) but it is not there`);
  const report = JSON.parse(readFileSync(path.join(options.run, reportFile), 'utf8')) as {
    command: string; seed: number; codeVersion: string; trainingSeconds: number; machine: string; acceptance: unknown; [k: string]: unknown;
  };
  const weights = readdirSync(half).filter((f) => f.endsWith('.safetensors'));
  const extras = [reportFile, 'acceptance.json', 'base-acceptance.json', 'acceptance.png', 'judge-robustness.json'].filter((f) => existsSync(path.join(options.run, f)));
  const dir = path.join(assets, options.name);
  const adding = [...weights, MODEL_INDEX_FILE].reduce((s, f) => s + statSync(path.join(half, f)).size, 0) + extras.reduce((s, f) => s + statSync(path.join(options.run, f)).size, 0);
  checkAssetsBudget(assets, options.name, adding, folderBytes(dir));
  mkdirSync(dir, { recursive: true });
  for (const f of [...weights, MODEL_INDEX_FILE]) copyFileSync(path.join(half, f), path.join(dir, f));
  for (const f of extras) copyFileSync(path.join(options.run, f), path.join(dir, f));
  const acceptance = reportFile === 'generator.json'
    ? ratios(report.acceptance as AcceptanceReport | null)
    : (() => {
      const a = report.acceptance as { base: AcceptanceReport; tuned: AcceptanceReport; change: unknown } | null;
      return a && { tuned: ratios(a.tuned), base: ratios(a.base), change: a.change };
    })();
  return recordAsset(assets, options.name, [MODEL_INDEX_FILE, ...weights, ...extras].map((f) => `${options.name}/${f}`), {
    command: report.command, seed: report.seed, codeVersion: report.codeVersion, trainingSeconds: report.trainingSeconds, machine: report.machine,
    kind: 'diffusion model directory (float16)', acceptance, ...(options.sizeNote ? { size: options.sizeNote } : {}),
  });
}

/** A shipped generator, each weights file checked against assets/manifest.json first (a differing hash is an error). */
export function loadShippedGenerator(dir: string): { model: DiffusionModel; verified: boolean } {
  const files = [MODEL_INDEX_FILE, ...readdirSync(dir).filter((f) => f.endsWith('.safetensors'))];
  const checked = files.map((f) => verifyAgainstManifest(path.join(dir, f)));
  return { model: loadDiffusionModel(dir), verified: checked.every(Boolean) };
}
