// robustness.test.ts: damaged inputs never crash the reader or throw anything but a
// TreeRewardError (seeded byte flips of a safetensors header and of a checkpoint pickle, deep
// nesting), and a 4 GB file is opened by its header alone.
import { closeSync, openSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { TreeRewardError } from '../../src/index.js';
import { Unpickler } from '../../src/io/pickle/unpickler.js';
import { openSafetensors, parseSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { openTorchCheckpoint } from '../../src/io/torch/checkpoint.js';
import { torchHooks } from '../../src/io/torch/records.js';
import { bytesOf, rawSafetensors, removeTempDirs, seededBytes, tempDir } from './helpers.js';
import { PickleBuilder, writeZip } from './pickle-builder.js';

afterAll(removeTempDirs);

function onlyTreeRewardErrors(fn: () => unknown): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof TreeRewardError)) throw e;
    return e.code;
  }
}

describe('damaged inputs', () => {
  it('2000 seeded byte flips of a safetensors file: each reads or is CORRUPT_FILE', () => {
    const header = { __metadata__: { a: 'b' }, x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, y: { dtype: 'I64', shape: [1], data_offsets: [16, 24] } };
    const good = rawSafetensors(header, new Uint8Array(24));
    const noise = seededBytes(4000, 3);
    const codes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(good);
      buf[noise[2 * i] % buf.length] = noise[2 * i + 1];
      codes.add(onlyTreeRewardErrors(() => parseSafetensors(buf)));
    }
    expect([...codes].every((c) => c === 'ok' || c === 'CORRUPT_FILE')).toBe(true);
    expect(codes.has('CORRUPT_FILE')).toBe(true);
  });

  it('2000 seeded byte flips of a checkpoint pickle: each loads or is a TreeRewardError', () => {
    const p = new PickleBuilder().proto(2);
    p.dict([
      ['sd', () => p.orderedDict([
        ['w', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [3, 2], stride: [1, 3] })],
        ['b', () => p.tensor({ key: '1', storageType: 'HalfStorage', numel: 2, shape: [2] })],
      ])],
      ['step', () => p.int(70000)],
      ['name', () => p.str('x')],
      ['lr', () => p.float(0.5)],
    ]);
    const good = p.stop().bytes();
    const noise = seededBytes(4000, 5);
    const codes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(good);
      buf[noise[2 * i] % buf.length] = noise[2 * i + 1];
      codes.add(onlyTreeRewardErrors(() => new Unpickler(buf, 'fuzz', torchHooks({ record: 'fuzz', format: 'zip' }, new Map())).load()));
    }
    expect(codes.has('CORRUPT_FILE')).toBe(true);
    expect([...codes].every((c) => ['ok', 'CORRUPT_FILE', 'NOT_SUPPORTED'].includes(c))).toBe(true);
  });

  it('containers nested 100000 deep are refused, not a stack overflow', async () => {
    const p = new PickleBuilder().proto(2);
    for (let i = 0; i <= 100000; i++) p.op(0x5d); // EMPTY_LIST x 100001
    for (let i = 0; i < 100000; i++) p.op(0x61); // APPEND each into the one below: [[[...]]]
    const dir = tempDir();
    const path = join(dir, 'deep.pt');
    await writeZip(path, [['d/data.pkl', p.stop().bytes()]]);
    await expect(openTorchCheckpoint(path)).rejects.toThrow(`Expected a PyTorch checkpoint at ${path} but its records nest deeper than 200 levels`);
  });
});

describe('large files', () => {
  it('a 4 GB safetensors file opens by its header; one small tensor reads without the rest', () => {
    const dir = tempDir();
    const path = join(dir, 'big.safetensors');
    const big = 2 ** 30; // F32 elements: 4 GiB
    writeSafetensors(path, {}, {}); // start from a valid empty file, then write a header by hand
    const header = Buffer.from(JSON.stringify({
      huge: { dtype: 'F32', shape: [big], data_offsets: [0, 4 * big] },
      small: { dtype: 'F32', shape: [2], data_offsets: [4 * big, 4 * big + 8] },
    }));
    const file = rawSafetensors(JSON.parse(header.toString()));
    const fd = openSync(path, 'w');
    writeSync(fd, file);
    closeSync(fd);
    truncateSync(path, file.length + 4 * big + 8); // sparse: no disk used
    const tail = openSync(path, 'r+');
    writeSync(tail, bytesOf(Float32Array.from([1.5, -2])), 0, 8, file.length + 4 * big);
    closeSync(tail);
    const started = Date.now();
    const r = openSafetensors(path);
    expect(r.names()).toEqual(['huge', 'small']);
    const t = r.tensor('small');
    expect(Array.from(t.toArray())).toEqual([1.5, -2]);
    t.dispose();
    r.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3);
  });
});
