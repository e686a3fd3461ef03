// convert.test.ts: checkpoint -> safetensors, in the library and through `treereward convert`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { TreeRewardError } from '../../src/index.js';
import { convertToSafetensors } from '../../src/io/convert.js';
import { openSafetensors, readSafetensors } from '../../src/io/safetensors.js';
import { bytesOf, removeTempDirs, tempDir } from './helpers.js';
import { PickleBuilder, writeZip } from './pickle-builder.js';

afterAll(removeTempDirs);

const BIN = join(import.meta.dirname, '../../bin/treereward.js');
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A Lightning-style checkpoint: {state_dict: {model.w (a transposed view), model.idx (int64)}, global_step}. */
async function lightningCheckpoint(dir: string): Promise<string> {
  const p = new PickleBuilder().proto(2);
  p.dict([
    ['state_dict', () => p.orderedDict([
      ['model.w', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [3, 2], stride: [1, 3] })],
      ['model.idx', () => p.tensor({ key: '1', storageType: 'LongStorage', numel: 3, shape: [3] })],
      ['ema.w', () => p.tensor({ key: '2', storageType: 'BFloat16Storage', numel: 2, shape: [2] })],
    ])],
    ['global_step', () => p.int(5)],
  ]);
  const path = join(dir, 'sd.ckpt');
  await writeZip(path, [
    ['sd/data.pkl', p.stop().bytes()],
    ['sd/data/0', bytesOf(Float32Array.from([1, 2, 3, 4, 5, 0.1]))],
    ['sd/data/1', bytesOf(BigInt64Array.from([1n, 2n, 3n]))],
    ['sd/data/2', bytesOf(Uint16Array.from([0x3f80, 0x4000]))],
  ]);
  return path;
}

describe('convertToSafetensors', () => {
  it('keeps stored types by default, gathers views, strips prefixes, reports non-tensors', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const r = await convertToSafetensors(await lightningCheckpoint(dir), out, { prefixStrip: ['state_dict.model.', 'state_dict.'] });
    expect(r).toMatchObject({ format: 'zip', tensors: 3, stripped: 3, byDtype: { F32: 1, I64: 1, BF16: 1 }, others: [{ name: 'global_step', type: 'int' }], bytesIn: 24 + 24 + 4, commonPrefix: null });
    const f = openSafetensors(out);
    expect(f.names()).toEqual(['w', 'idx', 'ema.w']);
    expect(f.entry('idx').dtype).toBe('I64');
    expect(f.metadata).toEqual({ format: 'pt', source: 'sd.ckpt', converted_by: 'treereward convert' });
    const w = f.tensor('w');
    expect(w.shape).toEqual([3, 2]);
    expect(Array.from(w.toArray())).toEqual([1, 4, 2, 5, 3, Math.fround(0.1)]);
    w.dispose();
    f.close();
  });

  it('half precision, and name clashes refused', async () => {
    const dir = tempDir();
    const ckpt = await lightningCheckpoint(dir);
    const out = join(dir, 'half.safetensors');
    const r = await convertToSafetensors(ckpt, out, { dtype: 'F16' });
    expect(r.byDtype).toEqual({ F16: 2, I64: 1 });
    expect(r.commonPrefix).toBe('state_dict.');
    const { tensors } = readSafetensors(out, 'keep');
    expect(tensors.get('state_dict.model.w')!.dtype).toBe('float16');
    expect(Array.from(tensors.get('state_dict.ema.w')!.toArray())).toEqual([1, 2]);
    for (const t of tensors.values()) t.dispose();
    // safetensors in, BF16 out
    const bf = join(dir, 'bf.safetensors');
    expect((await convertToSafetensors(out, bf, { dtype: 'BF16' })).byDtype).toEqual({ BF16: 2, I64: 1 });
    const clash = convertToSafetensors(ckpt, join(dir, 'clash.safetensors'), { prefixStrip: ['state_dict.model.', 'state_dict.ema.'] });
    await expect(clash).rejects.toThrow('Expected distinct names after stripping prefixes but "state_dict.model.w" and "state_dict.ema.w" both become "w"');
    await expect(clash).rejects.toBeInstanceOf(TreeRewardError);
    expect(existsSync(join(dir, 'clash.safetensors'))).toBe(false);
    await expect(convertToSafetensors(ckpt, ckpt)).rejects.toThrow('Expected an output path other than the input for output but received');
  });
});

describe('treereward convert (CLI)', () => {
  it('converts with --half --prefix-strip --json, and prints a summary without --json', async () => {
    const dir = tempDir();
    const ckpt = await lightningCheckpoint(dir);
    const out = join(dir, 'cli.safetensors');
    const j = await cli('convert', ckpt, out, '--half', '--prefix-strip', 'state_dict.', '--json');
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ tensors: 3, stripped: 3, byDtype: { F16: 2, I64: 1 }, format: 'zip' });
    expect(openSafetensors(out).names()).toEqual(['model.w', 'model.idx', 'ema.w']);
    const t = await cli('convert', ckpt, out);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`converted 3 tensors from ${ckpt} (zip checkpoint) to ${out}`);
    expect(t.stdout).toContain('not tensors, not written: global_step (int)');
    expect(t.stdout).toContain('every name starts with "state_dict.": pass --prefix-strip state_dict. to drop it');
    const bad = await cli('convert', ckpt, out, '--half', '--bf16');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[INVALID_ARGUMENT] Expected one of --half, --bf16 and --dtype for the precision but received "F16 and BF16"');
  });
});
