// records.ts: what a PyTorch checkpoint's pickle may contain, and nothing more. The whitelist:
// containers (dict, list, tuple, set, collections.OrderedDict), scalars and strings, storages
// (torch.FloatStorage, HalfStorage, BFloat16Storage, LongStorage, ... as persistent ids), tensors
// rebuilt by torch._utils._rebuild_tensor_v2 / _rebuild_tensor, parameters by _rebuild_parameter
// (_with_state), tensor subclasses by torch._tensor._rebuild_from_type_v2, and bytes by
// _codecs.encode. Any other global is refused when the pickle names it, before it could be used.
// The "rebuild" functions here only record shapes and offsets: bytes are read later, on request.
import { TreeRewardError } from '../../native/errors.js';
import { type StoredDType } from '../dtypes.js';
import { type PickleHooks } from '../pickle/unpickler.js';
import { isPyKey, PyDict, PyRecord, PyTuple, pyTypeName, type PyValue } from '../pickle/values.js';

/** torch storage class name -> stored dtype. */
export const STORAGE_DTYPES: Record<string, StoredDType> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16', LongStorage: 'I64', IntStorage: 'I32',
  ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** A storage class (torch.FloatStorage...), a tensor type (torch.Tensor, Parameter) or a whitelisted function, by name. */
export class TorchGlobal extends PyRecord {
  constructor(readonly qualified: string) {
    super();
  }
  describe(): string {
    return this.qualified;
  }
}

/** One storage of the checkpoint: raw elements under `key` (archive/data/<key> in a zip). */
export class StorageRef extends PyRecord {
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    /** Elements in this storage (for a legacy view: in the view). */
    readonly numel: number,
    readonly location: string,
    /** Legacy views: where the view starts in its root storage, in elements. */
    readonly elementOffset = 0,
  ) {
    super();
  }
  describe(): string {
    return `storage ${this.key} (${this.dtype}, ${this.numel} elements)`;
  }
}

/** A tensor: a strided view of a storage (nothing read yet). */
export class TensorRef extends PyRecord {
  constructor(
    readonly storage: StorageRef,
    /** In elements, from the storage's start. */
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
    readonly parameter = false,
  ) {
    super();
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  describe(): string {
    return `tensor [${this.shape}] of ${this.storage.dtype}`;
  }
}

/** A global the caller allowed by name (allowGlobals): inert, never called; its arguments and state are kept as data. */
export class OpaqueRecord extends PyRecord {
  state: PyValue = null;
  constructor(readonly qualified: string, readonly args: PyValue[] = []) {
    super();
  }
  describe(): string {
    return this.qualified;
  }
}

const CALLABLES = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state', 'torch._tensor._rebuild_from_type_v2', '_codecs.encode',
]);
const TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

function refuse(what: string, record: string): TreeRewardError {
  return new TreeRewardError('NOT_SUPPORTED', `Expected only tensor and container records in the checkpoint but found ${what} in ${record}`);
}

export interface TorchHookOptions {
  /** The pickle's name in messages (archive/data.pkl). */
  record: string;
  /** 'zip' ids are ('storage', type, key, location, numel); 'legacy' ones add view metadata. */
  format: 'zip' | 'legacy';
  /** Globals to accept as inert records (for instance a training callback in a Lightning checkpoint). */
  allowGlobals?: readonly string[];
}

function int(v: PyValue, what: string, record: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TreeRewardError('CORRUPT_FILE', `Expected a non-negative integer for ${what} in ${record} but found ${typeof v === 'number' || typeof v === 'bigint' ? String(v) : pyTypeName(v)}`);
  return v;
}
function ints(v: PyValue, what: string, record: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new TreeRewardError('CORRUPT_FILE', `Expected a tuple of integers for ${what} in ${record} but found a ${pyTypeName(v)}`);
  return items.map((x, i) => int(x, `${what}[${i}]`, record));
}

/** The hooks that rebuild a checkpoint's records; `storages` collects every storage by key. */
export function torchHooks(options: TorchHookOptions, storages: Map<string, StorageRef>): PickleHooks {
  const { record } = options;
  const allowed = new Set(options.allowGlobals ?? []);

  function rebuildTensor(args: PyValue[]): TensorRef {
    const [storage, offset, size, stride, requiresGrad] = args;
    if (!(storage instanceof StorageRef)) throw new TreeRewardError('CORRUPT_FILE', `Expected a storage as the first argument of a tensor in ${record} but found a ${pyTypeName(storage)}`);
    const shape = ints(size, 'a tensor size', record);
    const strides = ints(stride, 'a tensor stride', record);
    if (shape.length !== strides.length) throw new TreeRewardError('CORRUPT_FILE', `Expected a stride per dimension of a tensor in ${record} but found size [${shape}] and stride [${strides}]`);
    const off = int(offset, 'a storage offset', record);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel > 0) {
      const last = off + shape.reduce((s, d, i) => s + (d - 1) * strides[i], 0);
      if (!Number.isSafeInteger(last) || last >= storage.numel) {
        throw new TreeRewardError('CORRUPT_FILE', `Expected a tensor view inside its storage in ${record} but size [${shape}], stride [${strides}] and offset ${off} reach element ${last} of storage ${storage.key}, which has ${storage.numel}`);
      }
    }
    return new TensorRef(storage, off, shape, strides, requiresGrad === true);
  }

  function call(fn: PyValue, args: PyValue[]): PyValue {
    if (fn instanceof OpaqueRecord) return new OpaqueRecord(fn.qualified, args);
    if (!(fn instanceof TorchGlobal) || !CALLABLES.has(fn.qualified)) throw refuse(`a call to ${pyTypeName(fn)}`, record);
    switch (fn.qualified) {
      case 'collections.OrderedDict': {
        const d = new PyDict(true);
        const items = args[0];
        if (items === undefined) return d;
        const pairs = Array.isArray(items) ? items : items instanceof PyTuple ? items.items : null;
        if (!pairs) throw refuse(`OrderedDict called with a ${pyTypeName(items)}`, record);
        for (const p of pairs) {
          const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : null;
          const key = kv?.[0];
          if (!kv || kv.length !== 2 || key === undefined || !isPyKey(key)) throw refuse('an OrderedDict item that is not a (key, value) pair', record);
          d.map.set(key, kv[1]);
        }
        return d;
      }
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor':
        return rebuildTensor(args);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        const [data, requiresGrad] = args;
        if (!(data instanceof TensorRef)) throw new TreeRewardError('CORRUPT_FILE', `Expected a tensor as a parameter's data in ${record} but found a ${pyTypeName(data)}`);
        return new TensorRef(data.storage, data.offset, data.shape, data.stride, requiresGrad === true, true);
      }
      case 'torch._tensor._rebuild_from_type_v2': {
        const [func, type, inner] = args;
        if (!(type instanceof TorchGlobal) || !TYPES.has(type.qualified)) throw refuse(`a tensor of type ${pyTypeName(type)}`, record);
        if (!(inner instanceof PyTuple)) throw new TreeRewardError('CORRUPT_FILE', `Expected a tuple of arguments for a tensor in ${record} but found a ${pyTypeName(inner)}`);
        return call(func, inner.items);
      }
      case '_codecs.encode': {
        const [text, encoding] = args;
        if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) throw refuse('_codecs.encode with arguments other than (str, "latin1")', record);
        return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
      }
    }
    throw refuse(`a call to ${fn.qualified}`, record);
  }

  return {
    global(module, name) {
      const q = `${module}.${name}`;
      if (CALLABLES.has(q) || TYPES.has(q)) return new TorchGlobal(q);
      if ((module === 'torch' || module === 'torch.cuda') && name in STORAGE_DTYPES) return new TorchGlobal(`torch.${name}`);
      if (allowed.has(q)) return new OpaqueRecord(q);
      throw refuse(`the global ${q}`, record);
    },
    reduce(fn, args) {
      return call(fn, args.items);
    },
    newObject(cls, args) {
      if (cls instanceof OpaqueRecord) return new OpaqueRecord(cls.qualified, args.items);
      throw refuse(`a new ${pyTypeName(cls)} object`, record);
    },
    build(obj, state) {
      if (obj instanceof PyDict) obj.attrs = state;
      else if (obj instanceof OpaqueRecord) obj.state = state;
      else if (!(obj instanceof TensorRef)) throw refuse(`state set on a ${pyTypeName(obj)}`, record);
      return obj;
    },
    persistentLoad(pid) {
      const t = pid instanceof PyTuple ? pid.items : null;
      if (!t || t[0] !== 'storage') throw refuse(`the persistent id ${t ? JSON.stringify(String(t[0])) : pyTypeName(pid)}`, record);
      const [, type, key, location, numel, view] = t;
      if (!(type instanceof TorchGlobal) || !(type.qualified.slice(6) in STORAGE_DTYPES)) throw refuse(`a storage of type ${pyTypeName(type ?? null)}`, record);
      if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new TreeRewardError('CORRUPT_FILE', `Expected a storage key of letters and digits in ${record} but found ${JSON.stringify(String(key))}`);
      const dtype = STORAGE_DTYPES[type.qualified.slice(6)];
      const size = int(numel ?? null, `the size of storage ${key}`, record);
      let root = storages.get(key);
      if (!root) storages.set(key, (root = new StorageRef(key, dtype, size, typeof location === 'string' ? location : 'cpu')));
      if (root.dtype !== dtype || root.numel !== size) {
        throw new TreeRewardError('CORRUPT_FILE', `Expected one dtype and size for storage ${key} in ${record} but found ${root.dtype} x ${root.numel} and ${dtype} x ${size}`);
      }
      if (options.format === 'legacy' && view instanceof PyTuple) {
        const [, viewOffset, viewSize] = view.items;
        const vo = int(viewOffset, `the offset of a view of storage ${key}`, record), vs = int(viewSize, `the size of a view of storage ${key}`, record);
        if (vo + vs > size) throw new TreeRewardError('CORRUPT_FILE', `Expected a storage view inside storage ${key} in ${record} but it spans elements ${vo} to ${vo + vs} of ${size}`);
        return new StorageRef(key, dtype, vs, root.location, vo);
      }
      return root;
    },
  };
}
