// safetensors.test.ts: round trips in every precision, every dtype of the spec, and corrupt files
// (truncated, lying offsets, random bytes, a header length beyond the file): each a CORRUPT_FILE
// error with a message that says what was wrong, and no crash.
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { tensor, TreeRewardError, type Tensor } from '../../src/index.js';
import {
  entryToTensor, openSafetensors, parseSafetensors, readSafetensors, writeSafetensors, writeSafetensorsStreaming, type RawEntry,
} from '../../src/io/safetensors.js';
import { bytesOf, rawSafetensors, removeTempDirs, seededBytes, tempDir } from './helpers.js';

afterAll(removeTempDirs);

function code(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TreeRewardError);
    return { code: (e as TreeRewardError).code, message: (e as Error).message };
  }
  throw new Error('expected a throw');
}

function dispose(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

describe('safetensors round trips', () => {
  it('float32 and int32 with metadata, bit for bit', () => {
    const dir = tempDir();
    const p = join(dir, 'a.safetensors');
    const w = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3 + 1e-7 * i);
    const t = { 'layer.weight': tensor(w, [2, 3, 4]), 'layer.index': tensor(Int32Array.from([-5, 0, 2147483647]), [3], { dtype: 'int32' }), empty: tensor(new Float32Array(0), [0, 4]) };
    writeSafetensors(p, t, { format: 'pt', note: 'héllo' });
    expect(readdirSync(dir)).toEqual(['a.safetensors']); // no .partial left behind
    const buf = readFileSync(p);
    expect((8 + Number(buf.readBigUInt64LE(0))) % 8).toBe(0); // data starts aligned
    const { tensors, metadata } = readSafetensors(p);
    expect(metadata).toEqual({ format: 'pt', note: 'héllo' });
    expect([...tensors.keys()].sort()).toEqual(['empty', 'layer.index', 'layer.weight']);
    expect(tensors.get('layer.weight')!.shape).toEqual([2, 3, 4]);
    expect(tensors.get('layer.weight')!.toArray()).toEqual(w);
    expect(tensors.get('layer.index')!.dtype).toBe('int32');
    expect(Array.from(tensors.get('layer.index')!.toArray())).toEqual([-5, 0, 2147483647]);
    expect(tensors.get('empty')!.shape).toEqual([0, 4]);
    dispose(tensors);
    for (const x of Object.values(t)) x.dispose();
  });

  it('half precision: F16 and BF16 written and read, kept as float16/bfloat16 or widened', () => {
    const p = join(tempDir(), 'h.safetensors');
    const exact = [0, -2, 0.5, 1024, 0.375, -0.0078125];
    const w = tensor(Float32Array.from(exact), [2, 3]);
    for (const dt of ['F16', 'BF16'] as const) {
      writeSafetensors(p, { w }, {}, { dtype: dt });
      const h = parseSafetensors(readFileSync(p));
      expect(h.entries.get('w')).toEqual({ dtype: dt, shape: [2, 3], data_offsets: [0, 12] });
      const kept = readSafetensors(p, { dtype: 'keep' }).tensors.get('w')!;
      expect(kept.dtype).toBe(dt === 'F16' ? 'float16' : 'bfloat16');
      expect(Array.from(kept.toArray())).toEqual(exact);
      const wide = readSafetensors(p, 'float64').tensors.get('w')!;
      expect(wide.dtype).toBe('float64');
      expect(Array.from(wide.toArray())).toEqual(exact);
      // written back in 'keep' mode, the half tensor stays half
      writeSafetensors(p, { w: kept }, {}, { dtype: 'keep' });
      expect(parseSafetensors(readFileSync(p)).entries.get('w')!.dtype).toBe(dt);
      kept.dispose();
      wide.dispose();
    }
    // inexact values round to nearest
    const r = tensor(Float32Array.from([0.1, 1 / 3, 3.14159]), [3]);
    writeSafetensors(p, { r }, {}, { dtype: 'F16' });
    const back = readSafetensors(p).tensors.get('r')!;
    Array.from(back.toArray()).forEach((v, i) => expect(Math.abs(v - [0.1, 1 / 3, 3.14159][i])).toBeLessThan(2e-3));
    back.dispose();
    r.dispose();
    w.dispose();
  });

  it('reads every dtype of the spec the engine has a type for', () => {
    const p = join(tempDir(), 'all.safetensors');
    const raw = (dtype: RawEntry['dtype'], a: ArrayBufferView, shape = [(a as unknown as { length: number }).length]): RawEntry => ({ dtype, shape, data: bytesOf(a) });
    const entries: Record<string, RawEntry> = {
      f64: raw('F64', Float64Array.from([1.5, -1e300])),
      f32: raw('F32', Float32Array.from([2.5, -3])),
      f16: raw('F16', Uint16Array.from([0x3c00, 0xc000])), // 1, -2
      bf16: raw('BF16', Uint16Array.from([0x3f80, 0xc040])), // 1, -3
      i64: raw('I64', BigInt64Array.from([-7n, 2147483647n])),
      u64: raw('U64', BigUint64Array.from([9n])),
      i32: raw('I32', Int32Array.from([-8, 8])),
      u32: raw('U32', Uint32Array.from([4000000])),
      i16: raw('I16', Int16Array.from([-300])),
      u16: raw('U16', Uint16Array.from([65535])),
      i8: raw('I8', Int8Array.from([-128, 127])),
      u8: raw('U8', Uint8Array.from([255])),
      bool: raw('BOOL', Uint8Array.from([0, 1, 1])),
      e4m3: raw('F8_E4M3', Uint8Array.from([0x38, 0xb0, 0x7e, 0x01])), // 1, -0.5, 448, 2^-9
      e5m2: raw('F8_E5M2', Uint8Array.from([0x3c, 0x7c, 0x01])), // 1, inf, 2^-16
    };
    writeSafetensors(p, entries, { kind: 'all' });
    const { tensors } = readSafetensors(p);
    const values = (n: string) => Array.from(tensors.get(n)!.toArray());
    expect(tensors.get('f64')!.dtype).toBe('float32');
    expect(values('f32')).toEqual([2.5, -3]);
    expect(values('f16')).toEqual([1, -2]);
    expect(values('bf16')).toEqual([1, -3]);
    expect(values('i64')).toEqual([-7, 2147483647]);
    expect(values('u64')).toEqual([9]);
    expect(values('i32')).toEqual([-8, 8]);
    expect(values('u32')).toEqual([4000000]);
    expect(values('i16')).toEqual([-300]);
    expect(values('u16')).toEqual([65535]);
    expect(values('i8')).toEqual([-128, 127]);
    expect(values('u8')).toEqual([255]);
    expect(values('bool')).toEqual([0, 1, 1]);
    expect(values('e4m3')).toEqual([1, -0.5, 448, 2 ** -9]);
    expect(values('e5m2')).toEqual([1, Infinity, 2 ** -16]);
    for (const n of ['i64', 'bool', 'u8']) expect(tensors.get(n)!.dtype).toBe('int32');
    dispose(tensors);
    const kept = readSafetensors(p, { dtype: 'keep', filter: (n) => n === 'f64' }).tensors;
    expect([...kept.keys()]).toEqual(['f64']);
    expect(kept.get('f64')!.dtype).toBe('float64');
    expect(Array.from(kept.get('f64')!.toArray())).toEqual([1.5, -1e300]);
    dispose(kept);
  });

  it('refuses values the engine cannot hold, naming the entry, and disposes what it made', () => {
    const p = join(tempDir(), 'big.safetensors');
    writeSafetensors(p, {
      a: { dtype: 'F32', shape: [1], data: bytesOf(Float32Array.from([1])) },
      b: { dtype: 'I64', shape: [2], data: bytesOf(BigInt64Array.from([1n, 1n << 40n])) },
      c: { dtype: 'F4', shape: [4], data: Uint8Array.from([0x12, 0x34]) },
    });
    expect(code(() => readSafetensors(p, { filter: (n) => n !== 'c' }))).toEqual({ code: 'NOT_SUPPORTED', message: 'Expected I64 values within the int32 range for "b" but found 1099511627776' });
    const r = openSafetensors(p);
    expect(Array.from(r.readBytes('c'))).toEqual([0x12, 0x34]);
    expect(code(() => r.tensor('c')).message).toBe('Expected a float, integer or BOOL entry for "c" but it is F4, which the engine has no type for');
    expect(code(() => r.tensor('zzz')).message).toBe(`Expected a tensor named "zzz" in ${p} but found none`);
    expect(code(() => r.tensor('a', 'int32' as never)).message).toBe('Expected one of float32, float64, bfloat16, float16, keep for dtype but received "int32"');
    r.close();
  });

  it('streams entries produced one at a time, checking each length', async () => {
    const p = join(tempDir(), 's.safetensors');
    const plan = [{ name: 'z', dtype: 'F32' as const, shape: [2] }, { name: 'a', dtype: 'U8' as const, shape: [3] }];
    await writeSafetensorsStreaming(p, plan, { step: '1' }, (e) => (e.name === 'z' ? bytesOf(Float32Array.from([1, 2])) : Uint8Array.from([1, 2, 3])));
    const f = parseSafetensors(readFileSync(p));
    expect([...f.entries.keys()]).toEqual(['z', 'a']); // file order is the plan's
    const z = entryToTensor(f, 'z');
    expect(Array.from(z.toArray())).toEqual([1, 2]);
    z.dispose();
    await expect(writeSafetensorsStreaming(p + '2', plan, {}, () => new Uint8Array(1))).rejects.toThrow('Expected 8 bytes for "z" (F32 [2]) but received 1');
    expect(existsSync(p + '2')).toBe(false);
    expect(existsSync(p + '2.partial')).toBe(false);
  });

  it('checks what it is asked to write', () => {
    const p = join(tempDir(), 'bad.safetensors');
    const t = tensor([1, 2]);
    expect(code(() => writeSafetensors(p, { x: t }, { n: 3 as unknown as string })).message).toBe('Expected a string for metadata "n" but received 3');
    expect(code(() => writeSafetensors(p, { __metadata__: t })).code).toBe('INVALID_ARGUMENT');
    expect(code(() => writeSafetensors(p, { x: t }, {}, { dtype: 'F8' as never })).message).toBe('Expected one of F32, F16, BF16, keep for dtype but received "F8"');
    expect(code(() => writeSafetensors(p, { x: { dtype: 'F32', shape: [3], data: new Uint8Array(8) } })).message).toBe('Expected 12 bytes for "x" (F32 [3]) but received 8');
    expect(existsSync(p)).toBe(false);
    t.dispose();
  });
});

describe('corrupt safetensors files', () => {
  const good = () => rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] } }, new Uint8Array(12));
  function corrupt(buf: Buffer): string {
    const p = join(tempDir(), 'c.safetensors');
    writeFileSync(p, buf);
    const e = code(() => readSafetensors(p));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message.startsWith(`Expected a valid safetensors file at ${p} but `)).toBe(true);
    // the in-memory parser agrees
    expect(code(() => parseSafetensors(buf, p))).toEqual(e);
    return e.message.slice(`Expected a valid safetensors file at ${p} but `.length);
  }

  it('a well-formed file reads', () => {
    const p = join(tempDir(), 'ok.safetensors');
    writeFileSync(p, good());
    const { tensors } = readSafetensors(p);
    expect(tensors.size).toBe(2);
    dispose(tensors);
  });

  it('truncated files', () => {
    const g = good();
    expect(corrupt(g.subarray(0, g.length - 3))).toBe('entry "b" has offsets [8, 12] outside the 9 data bytes');
    expect(corrupt(g.subarray(0, 20))).toMatch(/^its header claims \d+ bytes but the file has 12 after the length$/);
    expect(corrupt(g.subarray(0, 5))).toBe('it has 5 bytes, fewer than the 8-byte header length');
    expect(corrupt(Buffer.alloc(0))).toBe('it has 0 bytes, fewer than the 8-byte header length');
  });

  it('headers that lie about offsets and sizes', () => {
    const d = new Uint8Array(12);
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, d))).toBe('entry "a" starts at 4, expected 0 (offsets must be contiguous)');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d))).toBe('entry "b" starts at 4, inside the previous entry (which ends at 8)');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, d))).toBe('its entries cover 8 of 12 data bytes');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d))).toBe('entry "a" has 8 bytes for shape [3] of F32 (expected 12)');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, d))).toBe('entry "a" has offsets [8, 0] outside the 12 data bytes');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 1e300] } }, d))).toBe('entry "a" has offsets [0, 1e+300] outside the 12 data bytes');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 12] } }, d))).toBe('entry "a" has the shape [-1]');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F33', shape: [3], data_offsets: [0, 12] } }, d))).toBe('entry "a" has the unknown dtype F33');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [3] } }, d))).toBe('entry "a" lacks dtype, shape or data_offsets');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)))).toBe('entry "a" has the shape [3], which does not fill whole bytes of F4');
    expect(corrupt(rawSafetensors({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 12] } }, d))).toBe('entry "a" has the shape [1099511627776,1099511627776], which does not fill whole bytes of F32');
    expect(corrupt(rawSafetensors({ __metadata__: { a: 1 } }))).toBe('its __metadata__ value "a" is not a string');
  });

  it('headers that are not JSON objects', () => {
    expect(corrupt(rawSafetensors('{"a": '))).toMatch(/^its header is not JSON \(/);
    expect(corrupt(rawSafetensors('[1, 2]'))).toBe('its header does not start with "{" (it starts with "[1, 2]")');
    expect(corrupt(rawSafetensors('{}', undefined, 1n))).toBe('its header claims 1 bytes, too few for a JSON object');
    const bad = rawSafetensors('{"a":1}');
    bad[9] = 0xff;
    expect(corrupt(bad)).toBe('its header is not valid UTF-8');
  });

  it('a header length beyond the file or beyond the bound', () => {
    expect(corrupt(rawSafetensors('{}', undefined, 1000n))).toBe('its header claims 1000 bytes but the file has 2 after the length');
    expect(corrupt(rawSafetensors('{}', undefined, 0xffffffffffffffffn))).toBe('its header claims 18446744073709551615 bytes (the limit is 104857600)');
  });

  it('a 10 MB random file', () => {
    const buf = Buffer.from(seededBytes(10 * 1024 * 1024, 7));
    expect(corrupt(buf)).toMatch(/^its header claims \d+ bytes \(the limit is 104857600\)$/);
    // with a plausible length, the random header is refused as not JSON
    buf.writeBigUInt64LE(4096n, 0);
    buf[8] = '{'.charCodeAt(0);
    expect(corrupt(buf)).toMatch(/^its header is not (valid UTF-8|JSON \(.*\))$/);
  });

  it('a file that shrinks after it was opened, and a missing file', () => {
    const p = join(tempDir(), 'shrink.safetensors');
    writeFileSync(p, good());
    const r = openSafetensors(p);
    truncateSync(p, 8 + Number(good().readBigUInt64LE(0)) + 4);
    const e = code(() => r.readBytes('b'));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/the file ended at byte \d+ while reading entry "b" \(it needs \d+\)$/);
    r.close();
    expect(code(() => r.readBytes('a')).code).toBe('DISPOSED');
    const m = code(() => readSafetensors(join(tempDir(), 'nope.safetensors')));
    expect(m.code).toBe('IO');
    expect(m.message).toMatch(/^Expected a readable file at .*nope\.safetensors but ENOENT/);
  });
});
