// convert.ts: a PyTorch checkpoint (or a safetensors file) to safetensors, one tensor at a time:
// the output header is planned from the pickle (names, dtypes, shapes), then each tensor's bytes
// are read, gathered from its view, converted if asked and written, so memory holds one tensor.
// Integer tensors keep their stored type (an I64 stays I64); floats keep theirs or become F32,
// F16 or BF16.
import { statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';

import { expected, TreeRewardError } from '../native/errors.js';
import { convertFloatBytes, FLOAT_STORED, storedByteLength, type StoredDType } from './dtypes.js';
import { SafetensorsReader } from './safetensors.js';
import { writeSafetensorsStreaming, type PlannedEntry } from './safetensors-write.js';
import { openTorchCheckpoint } from './torch/checkpoint.js';

export type ConvertDType = 'keep' | 'F32' | 'F16' | 'BF16';
export const CONVERT_DTYPES: readonly ConvertDType[] = ['keep', 'F32', 'F16', 'BF16'];

export interface ConvertOptions {
  /** Float tensors: kept as stored, or all F32, F16 or BF16. Defaults to 'keep'. */
  dtype?: ConvertDType;
  /** Prefixes removed from the names that start with them (the first that matches). Defaults to none. */
  prefixStrip?: readonly string[];
  /** Checkpoint globals accepted as inert records (see CheckpointOptions). */
  allowGlobals?: readonly string[];
  onProgress?: (p: { done: number; total: number; bytes: number; totalBytes: number }) => void;
}

export interface ConvertReport {
  input: string;
  output: string;
  format: 'zip' | 'legacy' | 'safetensors';
  tensors: number;
  /** Bytes of tensor data read (views count only the elements they hold). */
  bytesIn: number;
  /** Size of the file written. */
  bytesOut: number;
  /** Tensors written per stored dtype. */
  byDtype: Record<string, number>;
  /** Names that lost a prefix. */
  stripped: number;
  /** Records that are not tensors (not written). */
  others: { name: string; type: string }[];
  /** A first name segment every tensor shares ("state_dict."), a candidate for prefixStrip. */
  commonPrefix: string | null;
  seconds: number;
}

interface SourceEntry {
  name: string;
  dtype: StoredDType;
  shape: number[];
  read: () => Promise<Uint8Array>;
}

function commonPrefix(names: string[]): string | null {
  if (names.length < 2) return null;
  const first = names[0].split('.')[0] + '.';
  return names.every((n) => n.startsWith(first)) ? first : null;
}

export async function convertToSafetensors(input: string, output: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const started = Date.now();
  const as = options.dtype ?? 'keep';
  if (!CONVERT_DTYPES.includes(as)) throw expected(`one of ${CONVERT_DTYPES.join(', ')}`, 'dtype', as);
  const strip = options.prefixStrip ?? [];
  strip.forEach((p, i) => {
    if (typeof p !== 'string' || p === '') throw expected('a non-empty prefix', `prefixStrip[${i}]`, p);
  });
  if (resolve(input) === resolve(output)) throw expected('an output path other than the input', 'output', output);

  // 1. the source: names, stored dtypes and shapes now, bytes on request
  let entries: SourceEntry[];
  let format: ConvertReport['format'];
  let others: ConvertReport['others'] = [];
  let metadata: Record<string, string> = {};
  let close: () => void;
  if (extname(input).toLowerCase() === '.safetensors') {
    const r = SafetensorsReader.open(input);
    format = 'safetensors';
    metadata = { ...r.metadata };
    entries = r.names().map((name) => ({ name, dtype: r.entry(name).dtype as StoredDType, shape: r.entry(name).shape, read: async () => r.readBytes(name) }));
    close = () => r.close();
  } else {
    const ckpt = await openTorchCheckpoint(input, { allowGlobals: options.allowGlobals });
    format = ckpt.format;
    others = ckpt.others;
    metadata = { format: 'pt' };
    entries = [...ckpt.tensors].map(([name, ref]) => ({ name, dtype: ref.storage.dtype, shape: ref.shape, read: () => ckpt.bytes(name) }));
    close = () => ckpt.close();
  }

  try {
    // 2. the plan: stripped names, output dtypes
    let stripped = 0;
    const seen = new Map<string, string>();
    const planned: PlannedEntry[] = entries.map((e) => {
      let name = e.name;
      const p = strip.find((x) => name.startsWith(x));
      if (p !== undefined) {
        name = name.slice(p.length);
        stripped++;
        if (name === '') throw new TreeRewardError('INVALID_ARGUMENT', `Expected a name left after stripping "${p}" from "${e.name}" but nothing is left`);
      }
      const clash = seen.get(name);
      if (clash !== undefined) throw new TreeRewardError('INVALID_ARGUMENT', `Expected distinct names after stripping prefixes but "${clash}" and "${e.name}" both become "${name}"`);
      seen.set(name, e.name);
      const dtype = as !== 'keep' && FLOAT_STORED.has(e.dtype) ? as : e.dtype;
      return { name, dtype, shape: e.shape };
    });
    const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const totalBytes = entries.reduce((s, e) => s + (storedByteLength(e.dtype, numel(e.shape)) ?? 0), 0);
    metadata.source = basename(input);
    metadata.converted_by = 'treereward convert';

    // 3. write, one tensor at a time
    let bytes = 0;
    await writeSafetensorsStreaming(output, planned, metadata, async (p, i) => {
      const e = entries[i];
      const raw = await e.read();
      bytes += raw.length;
      const out = p.dtype === e.dtype ? raw : convertFloatBytes(raw, e.dtype, numel(e.shape), p.dtype as 'F32' | 'F16' | 'BF16', e.name);
      options.onProgress?.({ done: i + 1, total: planned.length, bytes, totalBytes });
      return out;
    });
    const byDtype: Record<string, number> = {};
    for (const p of planned) byDtype[p.dtype] = (byDtype[p.dtype] ?? 0) + 1;
    return {
      input, output, format, tensors: planned.length, bytesIn: bytes, bytesOut: statSync(output).size, byDtype, stripped, others,
      commonPrefix: commonPrefix(planned.map((p) => p.name)), seconds: (Date.now() - started) / 1000,
    };
  } finally {
    close();
  }
}
