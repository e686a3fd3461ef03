// load-assets.ts: the world's pretrained encoders from a run folder or from assets/: the JSON (config,
// tokenizer vocabulary, provenance) and the weights (float32 when present, else float16), whose
// SHA-256 is checked against assets/manifest.json where the manifest lists the file.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Tensor } from '../api/index.js';
import { readSafetensors } from '../io/safetensors.js';
import { native } from '../native/addon.js';
import { TreeRewardError } from '../native/errors.js';
import { WordTokenizer } from '../tokenizers/word.js';
import { verifyAgainstManifest } from './asset-files.js';
import type { BlipAssetJson } from './pretrain-blip.js';
import type { ClipAssetJson } from './pretrain-clip.js';
import { WorldBlip } from './world-blip.js';
import { WorldClip } from './world-clip.js';

export interface LoadedAsset<M, J> {
  model: M;
  tokenizer: WordTokenizer;
  info: J;
  /** The weights file read. */
  weights: string;
  /** Whether a manifest listed the file (and its hash matched). */
  verified: boolean;
}

function readJson<J extends { format: string }>(dir: string, file: string, format: string): J {
  const p = path.join(dir, file);
  let json: J;
  try {
    json = JSON.parse(readFileSync(p, 'utf8')) as J;
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a pretrained world model folder with ${file} at ${dir} but ${(e as Error).message}`);
  }
  if (json.format !== format) throw new TreeRewardError('CORRUPT_FILE', `Expected format ${format} in ${p} but received ${JSON.stringify(json.format)}`);
  return json;
}

function weightsFile(dir: string, base: string): string {
  for (const f of [`${base}.safetensors`, `${base}.f16.safetensors`]) if (existsSync(path.join(dir, f))) return path.join(dir, f);
  throw new TreeRewardError('IO', `Expected ${base}.safetensors or ${base}.f16.safetensors in ${dir} but found neither`);
}

/** Copies every parameter from the file (strict: missing, unexpected or mis-shaped names are errors). */
function loadInto(params: Map<string, Tensor>, file: string): void {
  const { tensors } = readSafetensors(file);
  try {
    const missing = [...params.keys()].filter((n) => !tensors.has(n));
    const unexpected = [...tensors.keys()].filter((n) => !params.has(n));
    const mismatched = [...params].filter(([n, p]) => tensors.has(n) && tensors.get(n)!.shape.join() !== p.shape.join()).map(([n]) => n);
    if (missing.length || unexpected.length || mismatched.length) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected ${file} to hold exactly the model's parameters but found missing [${missing.slice(0, 5).join(', ')}], unexpected [${unexpected.slice(0, 5).join(', ')}], mis-shaped [${mismatched.slice(0, 5).join(', ')}]`);
    }
    for (const [n, p] of params) native().copyInto(p.handle, tensors.get(n)!.handle);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function tokenizerOf(t: { vocab: string[]; maxLength: number }): WordTokenizer {
  return WordTokenizer.fromWords(t.vocab, { maxLength: t.maxLength });
}

/** The world BLIP (backbone and ITC/ITM heads) from a folder with blip.json. */
export function loadWorldBlip(dir: string): LoadedAsset<WorldBlip, BlipAssetJson> {
  const info = readJson<BlipAssetJson>(dir, 'blip.json', 'treereward-world-blip/1');
  const weights = weightsFile(dir, 'blip');
  const verified = verifyAgainstManifest(weights);
  const model = new WorldBlip(info.config, 0);
  try {
    loadInto(model.parameters(), weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer: tokenizerOf(info.tokenizer), info, weights, verified };
}

/** The world CLIP with its aesthetic head from a folder with clip.json. */
export function loadWorldClip(dir: string): LoadedAsset<WorldClip, ClipAssetJson> {
  const info = readJson<ClipAssetJson>(dir, 'clip.json', 'treereward-world-clip/1');
  const weights = weightsFile(dir, 'clip');
  const verified = verifyAgainstManifest(weights);
  const model = new WorldClip(info.config, 0);
  try {
    loadInto(model.parameters(), weights);
    model.clip.logitScale = model.logitScale.item();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer: tokenizerOf(info.tokenizer), info, weights, verified };
}
