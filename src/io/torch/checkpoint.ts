// checkpoint.ts: PyTorch checkpoints (.pt, .pth, .bin, .ckpt), as ImageReward, BLIP and the LAION
// aesthetic predictor ship them. Two formats:
//  - zip (torch >= 1.6): <prefix>/data.pkl is a pickle whose storages are persistent ids
//    ('storage', torch.FloatStorage, key, location, numel); <prefix>/data/<key> holds the raw bytes.
//  - legacy (older torch.save, or _use_new_zipfile_serialization=False): five pickles in a row
//    (magic number, protocol version, sys info, the object, the storage keys), then each storage as
//    an int64 element count followed by its bytes.
// The pickle is read by the restricted unpickler (records.ts holds the whitelist); opening reads
// only the pickle, and each tensor's bytes are read when asked, so a 4 GB .ckpt is never in memory.
// The pre-1.0 tar format is not supported.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';

import { TreeRewardError } from '../../native/errors.js';
import { type Tensor } from '../../api/tensor.js';
import { bytesToTensor, STORED_DTYPE_BITS, type FloatTarget } from '../dtypes.js';
import { PickleTruncated, Unpickler } from '../pickle/unpickler.js';
import { PyDict, PySet, PyTuple, pyTypeName, type PyValue } from '../pickle/values.js';
import { OpaqueRecord, StorageRef, TensorRef, torchHooks } from './records.js';
import { gather, viewSpan } from './strided.js';
import { ZipArchive } from './zip-archive.js';

export interface CheckpointOptions {
  /** Globals (module.name) to accept as inert records, never called: for checkpoints that pickle other objects beside their tensors, such as a Lightning callback. Defaults to none. */
  allowGlobals?: readonly string[];
}

export interface CheckpointReadOptions extends CheckpointOptions {
  /** How float tensors become engine tensors (as readSafetensors). Defaults to float32. */
  dtype?: FloatTarget;
  /** Reads only the tensors it accepts (by flattened name). Defaults to all. */
  filter?: (name: string) => boolean;
  onProgress?: (p: { done: number; total: number }) => void;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const LEGACY_PREFIX_BYTES = 64 * 1024 * 1024;
/** Containers nested deeper than this are refused (a state dict is a few levels deep). */
const MAX_DEPTH = 200;

interface StorageSource {
  /** Elements [from, to) of a storage, as bytes. */
  read(s: StorageRef, from: number, to: number): Promise<Uint8Array>;
  close(): void;
}

function elementSize(s: StorageRef): number {
  return STORED_DTYPE_BITS[s.dtype] / 8;
}

function corrupt(path: string, what: string): TreeRewardError {
  return new TreeRewardError('CORRUPT_FILE', `Expected a PyTorch checkpoint at ${path} but ${what}`);
}

/** An open checkpoint: its object tree now, each tensor's bytes on request. */
export class TorchCheckpoint {
  /** Every tensor by its dotted path in the object (state_dict.model.diffusion_model.out.0.weight), in pickle order. */
  readonly tensors = new Map<string, TensorRef>();
  /** Records that are not tensors (numbers, strings, allowed objects), by dotted path and Python type. */
  readonly others: { name: string; type: string }[] = [];

  constructor(
    readonly path: string,
    readonly format: 'zip' | 'legacy',
    readonly root: PyValue,
    readonly storages: Map<string, StorageRef>,
    private readonly source: StorageSource,
  ) {
    this.#flatten(root, '', new Set(), 0);
  }

  #flatten(v: PyValue, name: string, open: Set<object>, depth: number): void {
    if (depth > MAX_DEPTH) throw corrupt(this.path, `its records nest deeper than ${MAX_DEPTH} levels (at "${name}")`);
    if (v instanceof TensorRef) {
      if (this.tensors.has(name)) throw corrupt(this.path, `two tensors flatten to the name "${name}"`);
      this.tensors.set(name, v);
      return;
    }
    const join = (k: string) => (name ? `${name}.${k}` : k);
    const children: [string, PyValue][] | null =
      v instanceof PyDict ? [...v.map].map(([k, x]) => [join(String(k)), x]) :
      Array.isArray(v) ? v.map((x, i) => [join(String(i)), x]) :
      v instanceof PyTuple ? v.items.map((x, i) => [join(String(i)), x]) : null;
    if (!children) {
      this.others.push({ name: name || '(root)', type: v instanceof OpaqueRecord ? v.qualified : pyTypeName(v) });
      return;
    }
    if (open.has(v as object)) return; // a container inside itself
    open.add(v as object);
    for (const [k, x] of children) this.#flatten(x, k, open, depth + 1);
    open.delete(v as object);
  }

  ref(name: string): TensorRef {
    const r = this.tensors.get(name);
    if (!r) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a tensor named "${name}" in ${this.path} but found none`);
    return r;
  }

  /** A tensor's elements in row-major order, in its stored dtype (views are gathered). */
  async bytes(name: string): Promise<Uint8Array> {
    const r = this.ref(name);
    const [a, b] = viewSpan(r.offset, r.shape, r.stride);
    const chunk = await this.source.read(r.storage, a, b);
    return gather(chunk, a, elementSize(r.storage), r.offset, r.shape, r.stride);
  }

  /** One tensor; float tensors become `dtype` (default float32), integers int32. */
  async tensor(name: string, dtype: FloatTarget = 'float32'): Promise<Tensor> {
    const r = this.ref(name);
    return bytesToTensor(await this.bytes(name), r.storage.dtype, r.shape, dtype, name);
  }

  close(): void {
    this.source.close();
  }
}

function isZip(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06);
}

/** Opens a checkpoint and reads its pickle (refusing anything but tensors and containers). */
export async function openTorchCheckpoint(path: string, options: CheckpointOptions = {}): Promise<TorchCheckpoint> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
  }
  let keepOpen = false;
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 4));
    readSync(fd, head, 0, head.length, 0);
    if (isZip(head)) return await openZip(path, options);
    if (head[0] !== 0x80) {
      throw corrupt(path, `it is neither a zip archive nor a pickle stream (it starts with ${Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
    }
    const ckpt = openLegacy(path, fd, size, options);
    keepOpen = true;
    return ckpt;
  } finally {
    if (!keepOpen) closeSync(fd);
  }
}

async function openZip(path: string, options: CheckpointOptions): Promise<TorchCheckpoint> {
  const zip = await ZipArchive.open(path);
  try {
    const pkls = zip.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length !== 1) throw corrupt(path, `its zip archive has ${pkls.length} <name>/data.pkl records (expected 1)`);
    const prefix = pkls[0].slice(0, -'data.pkl'.length);
    if (zip.has(`${prefix}byteorder`)) {
      const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`));
      if (order !== 'little') throw new TreeRewardError('NOT_SUPPORTED', `Expected a little-endian checkpoint at ${path} but its byteorder record says ${JSON.stringify(order)}`);
    }
    const storages = new Map<string, StorageRef>();
    const record = `${basename(path)}:${pkls[0]}`;
    const root = new Unpickler(await zip.read(pkls[0]), record, torchHooks({ record, format: 'zip', allowGlobals: options.allowGlobals }, storages)).load();
    const checked = new Set<string>();
    const source: StorageSource = {
      async read(s, from, to) {
        const entry = `${prefix}data/${s.key}`;
        const es = elementSize(s);
        if (!checked.has(s.key)) {
          const have = zip.has(entry) ? zip.size(entry) : -1;
          if (have < 0) throw corrupt(path, `its storage ${s.key} has no record ${entry}`);
          if (have < s.numel * es) throw corrupt(path, `its storage ${s.key} has ${have} bytes but ${s.numel} elements of ${s.dtype} need ${s.numel * es}`);
          checked.add(s.key);
        }
        return zip.read(entry, from * es, to * es);
      },
      close: () => zip.close(),
    };
    return new TorchCheckpoint(path, 'zip', root, storages, source);
  } catch (e) {
    zip.close();
    throw e;
  }
}

function openLegacy(path: string, fd: number, size: number, options: CheckpointOptions): TorchCheckpoint {
  const record = basename(path);
  const storages = new Map<string, StorageRef>();
  const readAt = (into: Uint8Array, at: number) => {
    let got = 0;
    while (got < into.length) {
      let n: number;
      try {
        n = readSync(fd, into, got, into.length - got, at + got);
      } catch (e) {
        throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) throw corrupt(path, `it ended at byte ${at + got} while reading ${into.length} bytes from ${at}`);
      got += n;
    }
  };
  // The pickles come first; read a prefix of the file, and all of it if they run past the prefix.
  let parsed: { root: PyValue; keys: PyValue; end: number } | null = null;
  for (const len of [Math.min(size, LEGACY_PREFIX_BYTES), size]) {
    const buf = new Uint8Array(len);
    readAt(buf, 0);
    const hooks = torchHooks({ record, format: 'legacy', allowGlobals: options.allowGlobals }, storages);
    const plain = torchHooks({ record, format: 'legacy' }, new Map());
    try {
      let u = new Unpickler(buf, record, plain);
      const magic = u.load();
      if (magic !== LEGACY_MAGIC) {
        throw corrupt(path, `its first pickle is not PyTorch's magic number (it is a ${pyTypeName(magic)})`);
      }
      u = new Unpickler(buf, record, plain, u.position);
      const protocol = u.load();
      if (protocol !== LEGACY_PROTOCOL) throw corrupt(path, `its protocol version is ${String(protocol)} (expected ${LEGACY_PROTOCOL})`);
      u = new Unpickler(buf, record, plain, u.position);
      const sysInfo = u.load();
      if (sysInfo instanceof PyDict && sysInfo.map.get('little_endian') === false) {
        throw new TreeRewardError('NOT_SUPPORTED', `Expected a little-endian checkpoint at ${path} but it was saved on a big-endian machine`);
      }
      u = new Unpickler(buf, record, hooks, u.position);
      const root = u.load();
      u = new Unpickler(buf, record, plain, u.position);
      const keys = u.load();
      parsed = { root, keys, end: u.position };
      break;
    } catch (e) {
      if (!(e instanceof PickleTruncated) || len === size) throw e;
      storages.clear();
    }
  }
  const { root, keys, end } = parsed!;
  const keyList = Array.isArray(keys) ? keys : keys instanceof PySet ? keys.items : null;
  if (!keyList || keyList.some((k) => typeof k !== 'string')) throw corrupt(path, `its storage key list is a ${pyTypeName(keys)}, not a list of strings`);
  // Storages follow in the listed order: an int64 element count, then the bytes.
  const starts = new Map<string, number>();
  let at = end;
  for (const key of keyList as string[]) {
    const s = storages.get(key);
    if (!s) throw corrupt(path, `its storage list names ${key}, which no tensor uses`);
    const count = new Uint8Array(8);
    readAt(count, at);
    const numel = new DataView(count.buffer).getBigInt64(0, true);
    if (numel !== BigInt(s.numel)) throw corrupt(path, `its storage ${key} holds ${numel} elements but its tensors say ${s.numel}`);
    starts.set(key, at + 8);
    at += 8 + s.numel * elementSize(s);
    if (at > size) throw corrupt(path, `its storage ${key} runs past the end of the file (byte ${at} of ${size})`);
  }
  for (const key of storages.keys()) if (!starts.has(key)) throw corrupt(path, `its storage ${key} is used but not stored`);
  const source: StorageSource = {
    async read(s, from, to) {
      const es = elementSize(s);
      const out = new Uint8Array((to - from) * es);
      readAt(out, starts.get(s.key)! + (s.elementOffset + from) * es);
      return out;
    },
    close: () => closeSync(fd),
  };
  return new TorchCheckpoint(path, 'legacy', root, storages, source);
}

/**
 * Reads every tensor of a checkpoint (or those `filter` accepts), one storage range at a time. On
 * any error the tensors made so far are disposed.
 */
export async function readTorchCheckpoint(path: string, options: CheckpointReadOptions = {}): Promise<{ tensors: Map<string, Tensor>; others: { name: string; type: string }[] }> {
  const ckpt = await openTorchCheckpoint(path, options);
  const tensors = new Map<string, Tensor>();
  try {
    const names = [...ckpt.tensors.keys()].filter((n) => !options.filter || options.filter(n));
    for (const name of names) {
      tensors.set(name, await ckpt.tensor(name, options.dtype ?? 'float32'));
      options.onProgress?.({ done: tensors.size, total: names.length });
    }
    return { tensors, others: ckpt.others };
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  } finally {
    ckpt.close();
  }
}
