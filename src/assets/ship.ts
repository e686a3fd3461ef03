// ship.ts: a finished pretraining run into assets/: its float16 weights and its JSON (pointing at
// them) under assets/<name>/, and an entry in assets/manifest.json with the command, seed, code
// version, training time, machine, metrics and every file's SHA-256. assets/ stays under its budget.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { TreeRewardError } from '../native/errors.js';
import { recordAsset, writeJsonAtomic, type ManifestEntry } from './asset-files.js';

/** assets/ holds at most this much (issue 7). */
export const ASSETS_BUDGET_BYTES = 40 * 1024 * 1024;

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

function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? folderBytes(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0);
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
  const extra = statSync(path.join(options.run, half)).size - folderBytes(dir);
  if (folderBytes(assets) + extra > ASSETS_BUDGET_BYTES) {
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected assets/ to stay under ${ASSETS_BUDGET_BYTES / 2 ** 20} MB but adding ${half} (${(statSync(path.join(options.run, half)).size / 2 ** 20).toFixed(1)} MB) would exceed it`);
  }
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(options.run, half), path.join(dir, half));
  writeJsonAtomic(path.join(dir, `${base}.json`), { ...json, files: [half] });
  const { command, seed, codeVersion, trainingSeconds, msPerStep, steps, batch, metrics } = json;
  return recordAsset(assets, options.name, [`${options.name}/${half}`, `${options.name}/${base}.json`], {
    command, seed, codeVersion, trainingSeconds, machine: machineDescription(), steps, batch, msPerStep, metrics,
    ...(options.sizeNote ? { size: options.sizeNote } : {}),
  });
}
