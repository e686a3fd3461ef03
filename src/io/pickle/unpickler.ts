// unpickler.ts: a restricted pickle reader (protocols 0 to 5). It is a stack machine over the
// opcodes that build containers and scalars; everything that could name or call Python code
// (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, NEWOBJ, persistent ids) goes through the caller's hooks,
// which accept only a whitelist and refuse the rest. Opcodes that import by extension registry
// (EXT1/2/4), instantiate classes the old way (INST, OBJ) or reference out-of-band buffers are
// refused here. Lengths are checked against the input before anything is allocated.
import { TreeRewardError } from '../../native/errors.js';
import { isPyKey, PyDict, PySet, PyTuple, pyTypeName, type PyValue } from './values.js';

export interface PickleHooks {
  /** GLOBAL / STACK_GLOBAL: a value for module.name, or a thrown refusal. */
  global(module: string, name: string): PyValue;
  /** REDUCE: callable(*args). */
  reduce(callable: PyValue, args: PyTuple): PyValue;
  /** BUILD: obj.__setstate__(state); returns the object that stays on the stack. */
  build(obj: PyValue, state: PyValue): PyValue;
  /** NEWOBJ / NEWOBJ_EX: cls.__new__(cls, *args). */
  newObject(cls: PyValue, args: PyTuple): PyValue;
  /** PERSID / BINPERSID. */
  persistentLoad(pid: PyValue): PyValue;
}

/** The input ended inside the pickle (a caller holding only part of a file may read more and retry). */
export class PickleTruncated extends TreeRewardError {}

const OPCODE_NAMES: Record<number, string> = {
  0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x69: 'INST', 0x6f: 'OBJ', 0x92: 'NEWOBJ_EX', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const MAX_PROTOCOL = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export class Unpickler {
  #buf: Uint8Array;
  #view: DataView;
  #pos: number;
  #stack: PyValue[] = [];
  #marks: number[] = [];
  #memo = new Map<number, PyValue>();
  #opAt = 0;

  /** `record` names the pickle in messages (a zip entry such as archive/data.pkl, or a file). */
  constructor(buf: Uint8Array, readonly record: string, readonly hooks: PickleHooks, start = 0) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = start;
  }

  /** Where the last load() stopped: the byte after its STOP opcode. */
  get position(): number {
    return this.#pos;
  }

  corrupt(what: string): TreeRewardError {
    return new TreeRewardError('CORRUPT_FILE', `Expected a valid pickle in ${this.record} but ${what} (at byte ${this.#opAt})`);
  }

  #need(n: number): number {
    if (n < 0 || this.#pos + n > this.#buf.length) {
      throw new PickleTruncated('CORRUPT_FILE', `Expected a valid pickle in ${this.record} but it ends inside an opcode (at byte ${this.#opAt}, which needs ${n} more bytes than the ${this.#buf.length - this.#pos} left)`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
  #u8(): number {
    return this.#buf[this.#need(1)];
  }
  #u16(): number {
    return this.#view.getUint16(this.#need(2), true);
  }
  #i32(): number {
    return this.#view.getInt32(this.#need(4), true);
  }
  #u32(): number {
    return this.#view.getUint32(this.#need(4), true);
  }
  #u64(): number {
    const v = this.#view.getBigUint64(this.#need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt(`a length of ${v} bytes is impossible`);
    return Number(v);
  }
  #bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#buf.subarray(at, at + n);
  }
  #line(): string {
    const end = this.#buf.indexOf(0x0a, this.#pos);
    if (end < 0) this.#need(this.#buf.length - this.#pos + 1);
    const s = latin1.decode(this.#buf.subarray(this.#pos, end));
    this.#pos = end + 1;
    return s;
  }
  #utf8(n: number): string {
    try {
      return utf8.decode(this.#bytes(n));
    } catch {
      throw this.corrupt('a string is not valid UTF-8');
    }
  }

  #pop(): PyValue {
    if (this.#stack.length === 0 || this.#stack.length === this.#marks[this.#marks.length - 1]) throw this.corrupt('an opcode pops an empty stack');
    return this.#stack.pop()!;
  }
  #top(): PyValue {
    if (this.#stack.length === 0) throw this.corrupt('an opcode reads an empty stack');
    return this.#stack[this.#stack.length - 1];
  }
  #popMark(): PyValue[] {
    const m = this.#marks.pop();
    if (m === undefined) throw this.corrupt('an opcode needs a MARK that is not there');
    return this.#stack.splice(m);
  }
  #memoGet(i: number): PyValue {
    if (!this.#memo.has(i)) throw this.corrupt(`it reads memo slot ${i}, which was never set`);
    return this.#memo.get(i)!;
  }
  #setItems(d: PyValue, kv: PyValue[]): void {
    if (!(d instanceof PyDict)) throw this.corrupt(`SETITEM targets a ${pyTypeName(d)}, not a dict`);
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = kv[i];
      if (!isPyKey(k)) throw this.corrupt(`a dict key is a ${pyTypeName(k)}; only str, int, float, bool and None keys are supported`);
      d.map.set(k, kv[i + 1]);
    }
  }
  #append(list: PyValue, items: PyValue[]): void {
    if (!Array.isArray(list)) throw this.corrupt(`APPEND targets a ${pyTypeName(list)}, not a list`);
    for (const x of items) list.push(x);
  }
  #int(text: string): number | bigint | boolean {
    if (text === '01') return true;
    if (text === '00') return false;
    const t = text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[-+]?\d+$/.test(t)) throw this.corrupt(`${JSON.stringify(text)} is not an integer`);
    const b = BigInt(t);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  #long(n: number): number | bigint {
    const bytes = this.#bytes(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (bytes[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  #quoted(text: string): string {
    const q = text[0];
    if ((q !== "'" && q !== '"') || text[text.length - 1] !== q || text.length < 2) throw this.corrupt('a STRING opcode is not quoted');
    return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
      e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? `\\${e}`);
  }

  /** Runs the opcodes up to STOP and returns the value left on the stack. */
  load(): PyValue {
    this.#stack = [];
    this.#marks = [];
    for (;;) {
      this.#opAt = this.#pos;
      const op = this.#u8();
      const s = this.#stack;
      switch (op) {
        case 0x80: { // PROTO
          const p = this.#u8();
          if (p > MAX_PROTOCOL) throw this.corrupt(`it uses pickle protocol ${p} (at most ${MAX_PROTOCOL} is known)`);
          break;
        }
        case 0x95: this.#u64(); break; // FRAME: a length hint
        case 0x2e: return this.#pop(); // STOP '.'
        case 0x28: this.#marks.push(s.length); break; // MARK '('
        case 0x30: // POP '0'
          if (this.#marks.length && this.#marks[this.#marks.length - 1] === s.length) this.#marks.pop();
          else this.#pop();
          break;
        case 0x31: this.#popMark(); break; // POP_MARK '1'
        case 0x32: s.push(this.#top()); break; // DUP '2'
        // scalars
        case 0x4e: s.push(null); break; // NONE 'N'
        case 0x88: s.push(true); break; // NEWTRUE
        case 0x89: s.push(false); break; // NEWFALSE
        case 0x4a: s.push(this.#i32()); break; // BININT 'J'
        case 0x4b: s.push(this.#u8()); break; // BININT1 'K'
        case 0x4d: s.push(this.#u16()); break; // BININT2 'M'
        case 0x49: s.push(this.#int(this.#line())); break; // INT 'I'
        case 0x4c: s.push(this.#int(this.#line())); break; // LONG 'L'
        case 0x8a: s.push(this.#long(this.#u8())); break; // LONG1
        case 0x8b: { // LONG4
          const n = this.#i32();
          if (n < 0) throw this.corrupt('LONG4 has a negative length');
          s.push(this.#long(n));
          break;
        }
        case 0x47: s.push(this.#view.getFloat64(this.#need(8), false)); break; // BINFLOAT 'G' (big-endian)
        case 0x46: { // FLOAT 'F'
          const v = Number(this.#line());
          if (Number.isNaN(v)) throw this.corrupt('a FLOAT is not a number');
          s.push(v);
          break;
        }
        // strings and bytes
        case 0x58: s.push(this.#utf8(this.#u32())); break; // BINUNICODE 'X'
        case 0x8c: s.push(this.#utf8(this.#u8())); break; // SHORT_BINUNICODE
        case 0x8d: s.push(this.#utf8(this.#u64())); break; // BINUNICODE8
        case 0x56: s.push(this.#line().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))); break; // UNICODE 'V'
        case 0x53: s.push(this.#quoted(this.#line())); break; // STRING 'S'
        case 0x54: s.push(latin1.decode(this.#bytes(this.#u32()))); break; // BINSTRING 'T' (Python 2 str)
        case 0x55: s.push(latin1.decode(this.#bytes(this.#u8()))); break; // SHORT_BINSTRING 'U'
        case 0x42: s.push(this.#bytes(this.#u32()).slice()); break; // BINBYTES 'B'
        case 0x43: s.push(this.#bytes(this.#u8()).slice()); break; // SHORT_BINBYTES 'C'
        case 0x8e: s.push(this.#bytes(this.#u64()).slice()); break; // BINBYTES8
        case 0x96: s.push(this.#bytes(this.#u64()).slice()); break; // BYTEARRAY8
        // containers
        case 0x5d: s.push([]); break; // EMPTY_LIST ']'
        case 0x29: s.push(new PyTuple([])); break; // EMPTY_TUPLE ')'
        case 0x7d: s.push(new PyDict()); break; // EMPTY_DICT '}'
        case 0x8f: s.push(new PySet([])); break; // EMPTY_SET
        case 0x6c: s.push(this.#popMark()); break; // LIST 'l'
        case 0x74: s.push(new PyTuple(this.#popMark())); break; // TUPLE 't'
        case 0x85: s.push(new PyTuple([this.#pop()])); break; // TUPLE1
        case 0x86: { // TUPLE2
          const b = this.#pop(), a = this.#pop();
          s.push(new PyTuple([a, b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.#pop(), b = this.#pop(), a = this.#pop();
          s.push(new PyTuple([a, b, c]));
          break;
        }
        case 0x64: { // DICT 'd'
          const d = new PyDict();
          this.#setItems(d, this.#popMark());
          s.push(d);
          break;
        }
        case 0x91: s.push(new PySet(this.#popMark(), true)); break; // FROZENSET
        case 0x61: { // APPEND 'a'
          const v = this.#pop();
          this.#append(this.#top(), [v]);
          break;
        }
        case 0x65: { // APPENDS 'e'
          const items = this.#popMark();
          this.#append(this.#top(), items);
          break;
        }
        case 0x73: { // SETITEM 's'
          const v = this.#pop(), k = this.#pop();
          this.#setItems(this.#top(), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS 'u'
          const kv = this.#popMark();
          this.#setItems(this.#top(), kv);
          break;
        }
        case 0x90: { // ADDITEMS
          const items = this.#popMark();
          const set = this.#top();
          if (!(set instanceof PySet)) throw this.corrupt(`ADDITEMS targets a ${pyTypeName(set)}, not a set`);
          set.items.push(...items);
          break;
        }
        // memo
        case 0x70: this.#memo.set(Number(this.#int(this.#line())), this.#top()); break; // PUT 'p'
        case 0x71: this.#memo.set(this.#u8(), this.#top()); break; // BINPUT 'q'
        case 0x72: this.#memo.set(this.#u32(), this.#top()); break; // LONG_BINPUT 'r'
        case 0x94: this.#memo.set(this.#memo.size, this.#top()); break; // MEMOIZE
        case 0x67: s.push(this.#memoGet(Number(this.#int(this.#line())))); break; // GET 'g'
        case 0x68: s.push(this.#memoGet(this.#u8())); break; // BINGET 'h'
        case 0x6a: s.push(this.#memoGet(this.#u32())); break; // LONG_BINGET 'j'
        // the gated opcodes: each goes through a hook that only knows the whitelist
        case 0x63: { // GLOBAL 'c'
          const module = this.#line();
          s.push(this.hooks.global(module, this.#line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.#pop(), module = this.#pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw this.corrupt('STACK_GLOBAL names are not strings');
          s.push(this.hooks.global(module, name));
          break;
        }
        case 0x52: { // REDUCE 'R'
          const args = this.#pop(), fn = this.#pop();
          if (!(args instanceof PyTuple)) throw this.corrupt(`REDUCE has ${pyTypeName(args)} arguments, not a tuple`);
          s.push(this.hooks.reduce(fn, args));
          break;
        }
        case 0x62: { // BUILD 'b'
          const state = this.#pop();
          s.push(this.hooks.build(this.#pop(), state));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.#pop(), cls = this.#pop();
          if (!(args instanceof PyTuple)) throw this.corrupt(`NEWOBJ has ${pyTypeName(args)} arguments, not a tuple`);
          s.push(this.hooks.newObject(cls, args));
          break;
        }
        case 0x50: s.push(this.hooks.persistentLoad(this.#line())); break; // PERSID 'P'
        case 0x51: s.push(this.hooks.persistentLoad(this.#pop())); break; // BINPERSID 'Q'
        default: {
          const name = OPCODE_NAMES[op];
          if (name) {
            throw new TreeRewardError('NOT_SUPPORTED', `Expected only tensor and container records in the checkpoint but found the opcode ${name} in ${this.record} (at byte ${this.#opAt})`);
          }
          throw this.corrupt(`it has the unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
        }
      }
    }
  }
}
