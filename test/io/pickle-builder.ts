// pickle-builder.ts: writes pickle bytes by hand, the way torch.save does (protocol 2, memoized
// globals), and zips them in PyTorch's layout with yazl, so tests need no Python.
import { createWriteStream } from 'node:fs';
import yazl from 'yazl';

export class PickleBuilder {
  readonly out: number[] = [];
  #memo = 0;
  #globals = new Map<string, number>();

  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  text(s: string): this {
    for (const b of Buffer.from(s, 'latin1')) this.out.push(b);
    return this;
  }
  u32(n: number): this {
    return this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(p = 2): this {
    return this.op(0x80, p);
  }
  mark(): this {
    return this.op(0x28);
  }
  stop(): this {
    return this.op(0x2e);
  }
  put(): number {
    const i = this.#memo++;
    this.op(0x71, i); // BINPUT
    return i;
  }
  get(i: number): this {
    return this.op(0x68, i); // BINGET
  }
  /** GLOBAL, memoized like pickle does: the second use is a BINGET. */
  global(module: string, name: string): this {
    const key = `${module}.${name}`;
    const at = this.#globals.get(key);
    if (at !== undefined) return this.get(at);
    this.op(0x63).text(`${module}\n${name}\n`);
    this.#globals.set(key, this.put());
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.op(0x58).u32(b.length);
    for (const x of b) this.out.push(x);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    return this.op(0x4a).u32(n >>> 0);
  }
  long1(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    while (x !== 0n && x !== -1n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes.length === 0 || (v > 0n && bytes[bytes.length - 1] & 0x80)) bytes.push(v < 0n ? 0xff : 0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  float(x: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    return this.op(0x47, ...b);
  }
  bool(b: boolean): this {
    return this.op(b ? 0x88 : 0x89);
  }
  none(): this {
    return this.op(0x4e);
  }
  /** TUPLE1/2/3 or MARK ... TUPLE over the items the callback writes. */
  tuple(n: number, items: () => void): this {
    if (n === 0) return this.op(0x29);
    if (n > 3) this.mark();
    items();
    return this.op(n === 1 ? 0x85 : n === 2 ? 0x86 : n === 3 ? 0x87 : 0x74);
  }
  ints(xs: number[]): this {
    return this.tuple(xs.length, () => xs.forEach((x) => this.int(x)));
  }
  reduce(): this {
    return this.op(0x52);
  }
  /** An OrderedDict built as torch does: OrderedDict() then SETITEMS. */
  orderedDict(items: [string, () => void][]): this {
    this.global('collections', 'OrderedDict').tuple(0, () => {}).reduce();
    this.put();
    if (items.length) {
      this.mark();
      for (const [k, v] of items) {
        this.str(k);
        v();
      }
      this.op(0x75); // SETITEMS
    }
    return this;
  }
  dict(items: [string, () => void][]): this {
    this.op(0x7d);
    this.put();
    if (items.length) {
      this.mark();
      for (const [k, v] of items) {
        this.str(k);
        v();
      }
      this.op(0x75);
    }
    return this;
  }
  /** torch._utils._rebuild_tensor_v2 over a persistent storage id. */
  tensor(t: TensorSpec): this {
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple(6, () => {
      this.tuple(5, () => {
        this.str('storage').global('torch', t.storageType).str(t.key).str('cpu').int(t.numel);
      });
      this.op(0x51); // BINPERSID
      this.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? rowMajor(t.shape)).bool(t.requiresGrad ?? false);
      this.global('collections', 'OrderedDict').tuple(0, () => {}).reduce();
    });
    return this.reduce();
  }
  /** The legacy format's storage id: ('storage', type, key, location, numel, None). */
  legacyTensor(t: TensorSpec): this {
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple(6, () => {
      this.tuple(6, () => {
        this.str('storage').global('torch', t.storageType).str(t.key).str('cpu').int(t.numel).none();
      });
      this.op(0x51);
      this.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? rowMajor(t.shape)).bool(false);
      this.global('collections', 'OrderedDict').tuple(0, () => {}).reduce();
    });
    return this.reduce();
  }
  bytes(): Buffer {
    return Buffer.from(this.out);
  }
}

export interface TensorSpec {
  key: string;
  storageType: string;
  numel: number;
  shape: number[];
  stride?: number[];
  offset?: number;
  requiresGrad?: boolean;
}

export function rowMajor(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Zips records (name -> bytes) uncompressed, as torch.save does. */
export async function writeZip(path: string, records: [string, Uint8Array][], compress = false): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of records) zip.addBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), name, { compress });
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
  });
}
