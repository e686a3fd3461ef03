// ship.ts: a finished pretraining run into assets/: its float16 weights and its JSON (pointing at
// them) under assets/<name>/, and an entry in assets/manifest.json with the command, seed, code
// version, training time, machine, metrics and every file's SHA-256. assets/ stays under its budget.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { TreeRewardError } from '../native/errors.js';
import { checkAssetsBudget, folderBytes, recordAsset, writeJsonAtomic, type ManifestEntry } from './asset-files.js';

export { ASSETS_BUDGET_BYTES } from './asset-files.js';

export interface ShipOptions {
  /** The run folder (with blip.json or clip.json and the .f16.safetensors). */
  run: string;
  /** Defaults to 'assets'. */
  assets?: string;
  /** The asset's folder and manifest key, e.g. 'world-blip'. */
  name: string;
  /** Why this size (recorded in the manifest). */
  sizeNote?: string;
}

interface RunJson {
  format: string;
  files: string[];
  command: string;
  seed: number;
  steps: number;
  batch: number;
  trainingSeconds: number;
  msPerStep: number;
  codeVersion: string;
  metrics: unknown;
  [key: string]: unknown;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.arch()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

export function shipAsset(options: ShipOptions): ManifestEntry {
  const assets = options.assets ?? 'assets';
  const base = ['blip', 'clip'].find((b) => existsSync(path.join(options.run, `${b}.json`)));
  if (!base) throw new TreeRewardError('IO', `Expected a finished pretraining run (blip.json or clip.json) in ${options.run} but found neither`);
  const json = JSON.parse(readFileSync(path.join(options.run, `${base}.json`), 'utf8')) as RunJson;
  const half = `${base}.f16.safetensors`;
  if (!existsSync(path.join(options.run, half))) throw new TreeRewardError('IO', `Expected ${half} in ${options.run} (run the command with --half) but it is not there`);
  const dir = path.join(assets, options.name);
  checkAssetsBudget(assets, half, statSync(path.join(options.run, half)).size, folderBytes(dir));
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(options.run, half), path.join(dir, half));
  writeJsonAtomic(path.join(dir, `${base}.json`), { ...json, files: [half] });
  const { command, seed, codeVersion, trainingSeconds, msPerStep, steps, batch, metrics } = json;
  return recordAsset(assets, options.name, [`${options.name}/${half}`, `${options.name}/${base}.json`], {
    command, seed, codeVersion, trainingSeconds, machine: machineDescription(), steps, batch, msPerStep, metrics,
    ...(options.sizeNote ? { size: options.sizeNote } : {}),
  });
}
