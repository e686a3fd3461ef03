// asset-files.ts: the files a pretraining run leaves and the shipped assets' manifest. Weights are
// written in float32 (to resume or fine-tune from) and, on request, in float16 (to ship); the
// manifest (assets/manifest.json) lists for each asset its files with their SHA-256 and size, the
// exact command, seed, code version and training time, and loading checks the hashes.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

import type { Tensor } from '../api/index.js';
import { writeSafetensors } from '../io/safetensors.js';
import { TreeRewardError } from '../native/errors.js';

export const MANIFEST = 'manifest.json';

/** assets/ holds at most this much (issue 7). */
export const ASSETS_BUDGET_BYTES = 40 * 1024 * 1024;

/** Every file under dir, as paths relative to it with '/' separators, sorted; [] where dir is missing. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const walk = (rel: string): string[] => readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]));
  return walk('').sort();
}

/** Bytes of every file under dir (0 where it is missing). */
export function folderBytes(dir: string): number {
  return filesUnder(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
}

/** Throws unless assets/ with `adding` more bytes (and `replacing` fewer) stays within ASSETS_BUDGET_BYTES. */
export function checkAssetsBudget(assets: string, what: string, adding: number, replacing = 0): void {
  if (folderBytes(assets) - replacing + adding > ASSETS_BUDGET_BYTES) {
    throw new TreeRewardError('INVALID_ARGUMENT', `Expected assets/ to stay under ${ASSETS_BUDGET_BYTES / 2 ** 20} MB but adding ${what} (${(adding / 2 ** 20).toFixed(1)} MB) would exceed it`);
  }
}

/** `${base}.safetensors` (float32) and, with half, `${base}.f16.safetensors`; returns the file names written. */
export function writeWeights(dir: string, base: string, params: Map<string, Tensor>, options: { half?: boolean; metadata?: Record<string, string> } = {}): string[] {
  const files = [`${base}.safetensors`];
  writeSafetensors(path.join(dir, files[0]), params, options.metadata ?? {});
  if (options.half) {
    files.push(`${base}.f16.safetensors`);
    writeSafetensors(path.join(dir, files[1]), params, options.metadata ?? {}, { dtype: 'F16' });
  }
  return files;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The checked-out commit, with "-dirty" when tracked files differ from it; "unknown" outside git. */
export function codeVersion(cwd = process.cwd()): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Writes JSON to a temporary name, then renames it over `file`. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.partial`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

export interface ManifestFile {
  sha256: string;
  bytes: number;
}

/** What the maker of an asset records about it. */
export interface ManifestInfo {
  command: string;
  seed: number;
  codeVersion: string;
  /** Wall time of the training on the machine that made it. */
  trainingSeconds: number;
  machine: string;
  /** Whatever else the asset's maker records (steps, batch, metrics, how the size was chosen). */
  [key: string]: unknown;
}

export interface ManifestEntry extends ManifestInfo {
  /** Paths relative to the manifest's folder. */
  files: Record<string, ManifestFile>;
}

export interface Manifest {
  format: 'treereward-assets/1';
  assets: Record<string, ManifestEntry>;
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return { format: 'treereward-assets/1', assets: {} };
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (m.format !== 'treereward-assets/1' || typeof m.assets !== 'object') throw new TreeRewardError('CORRUPT_FILE', `Expected format treereward-assets/1 in ${file} but received ${JSON.stringify(m.format)}`);
  return m;
}

/** Adds or replaces asset `name` in `dir`/manifest.json (other assets are kept), hashing its files. */
export function recordAsset(dir: string, name: string, files: string[], info: ManifestInfo): ManifestEntry {
  const entry: ManifestEntry = { ...info, files: {} };
  for (const f of files) entry.files[f] = { sha256: sha256File(path.join(dir, f)), bytes: statSync(path.join(dir, f)).size };
  const m = readManifest(dir);
  m.assets[name] = entry;
  writeJsonAtomic(path.join(dir, MANIFEST), m);
  return entry;
}

/**
 * Checks `file` (a path) against the manifest of the folder above or beside it, where one lists it;
 * returns whether a manifest entry was found. A hash that differs is an error.
 */
export function verifyAgainstManifest(file: string): boolean {
  for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
    if (!existsSync(path.join(dir, MANIFEST))) continue;
    const rel = path.relative(dir, file).split(path.sep).join('/');
    for (const [name, entry] of Object.entries(readManifest(dir).assets)) {
      const want = entry.files[rel];
      if (!want) continue;
      const got = sha256File(file);
      if (got !== want.sha256) {
        throw new TreeRewardError('CORRUPT_FILE', `Expected ${file} to have SHA-256 ${want.sha256} (asset "${name}" in ${path.join(dir, MANIFEST)}) but it has ${got}`);
      }
      return true;
    }
  }
  return false;
}
