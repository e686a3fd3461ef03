// checkpoint.test.ts: PyTorch checkpoints written by hand (pickle bytes built here, zipped with
// yazl, in torch's zip layout and in the legacy stream), read back with views, offsets, every
// storage type; pickles that ask for code are refused without running anything; corrupt files
// are CORRUPT_FILE errors.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { TreeRewardError } from '../../src/index.js';
import { openTorchCheckpoint, readTorchCheckpoint } from '../../src/io/torch/checkpoint.js';
import { bytesOf, removeTempDirs, tempDir } from './helpers.js';
import { PickleBuilder, writeZip } from './pickle-builder.js';

afterAll(removeTempDirs);

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TreeRewardError);
    return { code: (e as TreeRewardError).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

// storage 0: 6 floats, storage 1: 5 floats, storage 2: 3 halves, storage 3: 2 longs, storage 4: 2 bools
const S0 = Float32Array.from([1, 2, 3, 4, 5, 6]);
const S1 = Float32Array.from([10, 11, 12, 13, 14]);
const S2 = Uint16Array.from([0x3c00, 0x4000, 0xbc00]); // 1, 2, -1
const S3 = BigInt64Array.from([7n, -9n]);
const S4 = Uint8Array.from([1, 0]);

function statePickle(): Buffer {
  const p = new PickleBuilder().proto(2);
  p.dict([
    ['state_dict', () => p.orderedDict([
      ['w', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [2, 3] })],
      ['wt', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [3, 2], stride: [1, 3] })],
      ['slice', () => p.tensor({ key: '1', storageType: 'FloatStorage', numel: 5, shape: [2], offset: 2 })],
      ['every_other', () => p.tensor({ key: '1', storageType: 'FloatStorage', numel: 5, shape: [3], stride: [2] })],
      ['half', () => p.tensor({ key: '2', storageType: 'HalfStorage', numel: 3, shape: [3] })],
      ['long', () => p.tensor({ key: '3', storageType: 'LongStorage', numel: 2, shape: [2] })],
      ['mask', () => p.tensor({ key: '4', storageType: 'BoolStorage', numel: 2, shape: [1, 2] })],
      ['scalar', () => p.tensor({ key: '1', storageType: 'FloatStorage', numel: 5, shape: [], offset: 4 })],
      ['param', () => {
        p.global('torch._utils', '_rebuild_parameter');
        p.tuple(3, () => {
          p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [3], offset: 3, requiresGrad: true });
          p.bool(true);
          p.global('collections', 'OrderedDict').tuple(0, () => {}).reduce();
        });
        p.reduce();
      }],
    ]).dict([['_metadata', () => p.dict([['', () => p.dict([['version', () => p.int(1)]])]])]]).op(0x62)], // BUILD: the OrderedDict's _metadata, as torch writes it
    ['global_step', () => p.int(470000)],
    ['name', () => p.str('ldm')],
    ['lr', () => p.float(1e-4)],
    ['big', () => p.long1(1n << 70n)],
  ]);
  return p.stop().bytes();
}

async function zipCheckpoint(dir: string, pickle: Buffer, extra: [string, Uint8Array][] = []): Promise<string> {
  const path = join(dir, 'model.ckpt');
  await writeZip(path, [
    ['model/data.pkl', pickle],
    ['model/byteorder', Buffer.from('little')],
    ['model/data/0', bytesOf(S0)],
    ['model/data/1', bytesOf(S1)],
    ['model/data/2', bytesOf(S2)],
    ['model/data/3', bytesOf(S3)],
    ['model/data/4', bytesOf(S4)],
    ['model/version', Buffer.from('3\n')],
    ...extra,
  ]);
  return path;
}

async function expectState(path: string): Promise<void> {
  const { tensors, others } = await readTorchCheckpoint(path, { dtype: 'keep' });
  const v = (n: string) => Array.from(tensors.get(`state_dict.${n}`)!.toArray());
  expect([...tensors.keys()]).toEqual(['w', 'wt', 'slice', 'every_other', 'half', 'long', 'mask', 'scalar', 'param'].map((n) => `state_dict.${n}`));
  expect(v('w')).toEqual([1, 2, 3, 4, 5, 6]);
  expect(tensors.get('state_dict.wt')!.shape).toEqual([3, 2]);
  expect(v('wt')).toEqual([1, 4, 2, 5, 3, 6]); // the transposed view, gathered
  expect(v('slice')).toEqual([12, 13]);
  expect(v('every_other')).toEqual([10, 12, 14]);
  expect(tensors.get('state_dict.half')!.dtype).toBe('float16');
  expect(v('half')).toEqual([1, 2, -1]);
  expect(tensors.get('state_dict.long')!.dtype).toBe('int32');
  expect(v('long')).toEqual([7, -9]);
  expect(v('mask')).toEqual([1, 0]);
  expect(tensors.get('state_dict.scalar')!.shape).toEqual([]);
  expect(v('scalar')).toEqual([14]);
  expect(v('param')).toEqual([4, 5, 6]);
  expect(others).toEqual([
    { name: 'global_step', type: 'int' }, { name: 'name', type: 'str' }, { name: 'lr', type: 'float' }, { name: 'big', type: 'int' },
  ]);
  for (const t of tensors.values()) t.dispose();
}

describe('PyTorch checkpoints written by hand', () => {
  it('zip format: containers, views, offsets, every storage type', async () => {
    const path = await zipCheckpoint(tempDir(), statePickle());
    await expectState(path);
    const ckpt = await openTorchCheckpoint(path);
    expect(ckpt.format).toBe('zip');
    const r = ckpt.ref('state_dict.param');
    expect([r.parameter, r.requiresGrad, r.storage.key, r.offset]).toEqual([true, true, '0', 3]);
    expect(Array.from(await ckpt.bytes('state_dict.slice'))).toEqual(Array.from(bytesOf(Float32Array.from([12, 13]))));
    await expect(ckpt.tensor('nope')).rejects.toThrow(`Expected a tensor named "nope" in ${path} but found none`);
    ckpt.close();
  });

  it('a deflated (re-zipped) archive reads the same', async () => {
    const dir = tempDir();
    const path = join(dir, 'deflated.pt');
    await writeZip(path, [['archive/data.pkl', statePickle()], ...[S0, S1, S2, S3, S4].map((s, i) => [`archive/data/${i}`, bytesOf(s)] as [string, Uint8Array])], true);
    await expectState(path);
  });

  it('legacy format: five pickles, then each storage after its element count', async () => {
    const p = new PickleBuilder();
    const magic = new PickleBuilder().proto(2).long1(0x1950a86a20f9469cfc6cn).stop().bytes();
    const version = new PickleBuilder().proto(2).int(1001).stop().bytes();
    const sys = new PickleBuilder().proto(2);
    sys.dict([['protocol_version', () => sys.int(1001)], ['little_endian', () => sys.bool(true)]]);
    p.proto(2).orderedDict([
      ['a', () => p.legacyTensor({ key: '94', storageType: 'FloatStorage', numel: 6, shape: [3, 2], stride: [1, 3] })],
      ['b', () => p.legacyTensor({ key: '95', storageType: 'LongStorage', numel: 2, shape: [2] })],
    ]).stop();
    const keys = new PickleBuilder().proto(2);
    keys.op(0x5d).mark().str('94').str('95').op(0x65).stop();
    const count = (n: number) => bytesOf(BigInt64Array.from([BigInt(n)]));
    const file = Buffer.concat([magic, version, sys.stop().bytes(), p.bytes(), keys.bytes(), count(6), bytesOf(S0), count(2), bytesOf(S3)]);
    const path = join(tempDir(), 'legacy.pt');
    writeFileSync(path, file);
    const { tensors } = await readTorchCheckpoint(path);
    expect(Array.from(tensors.get('a')!.toArray())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(tensors.get('b')!.toArray())).toEqual([7, -9]);
    for (const t of tensors.values()) t.dispose();
    // a storage count that disagrees with the pickle, and a file cut short
    writeFileSync(path, Buffer.concat([magic, version, sys.bytes(), p.bytes(), keys.bytes(), count(5), bytesOf(S0)]));
    expect((await rejection(openTorchCheckpoint(path))).message).toBe(`Expected a PyTorch checkpoint at ${path} but its storage 94 holds 5 elements but its tensors say 6`);
    writeFileSync(path, file.subarray(0, file.length - 4));
    expect((await rejection(openTorchCheckpoint(path))).message).toMatch(/but its storage 95 runs past the end of the file \(byte \d+ of \d+\)$/);
  });
});

describe('pickles that ask for code are refused', () => {
  const marker = () => join(tempDir(), 'ran');
  async function refused(build: (p: PickleBuilder) => void): Promise<string> {
    const p = new PickleBuilder();
    build(p);
    const dir = tempDir();
    const path = join(dir, 'evil.pt');
    await writeZip(path, [['evil/data.pkl', p.stop().bytes()]]);
    const e = await rejection(readTorchCheckpoint(path));
    expect(e.code).toBe('NOT_SUPPORTED');
    return e.message;
  }

  it('os.system, builtins.eval, subprocess via STACK_GLOBAL', async () => {
    const m = marker();
    const msg = await refused((p) => p.proto(2).global('os', 'system').tuple(1, () => p.str(`touch ${m}`)).reduce());
    expect(msg).toBe('Expected only tensor and container records in the checkpoint but found the global os.system in evil.pt:evil/data.pkl');
    expect(existsSync(m)).toBe(false);
    expect(await refused((p) => p.proto(2).global('builtins', 'eval').tuple(1, () => p.str('1+1')).reduce())).toContain('found the global builtins.eval in');
    // protocol 4 names globals from the stack
    expect(await refused((p) => p.proto(4).op(0x8c, 10).text('subprocess').op(0x8c, 5).text('Popen').op(0x93))).toContain('found the global subprocess.Popen in');
    // the global is refused even inside a state dict, where a loader would look for tensors
    expect(await refused((p) => p.proto(2).orderedDict([['w', () => p.global('posix', 'system')]]))).toContain('found the global posix.system');
  });

  it('REDUCE on anything but a whitelisted callable, and the object-building opcodes', async () => {
    expect(await refused((p) => p.proto(2).global('torch', 'FloatStorage').tuple(0, () => {}).reduce())).toContain('found a call to torch.FloatStorage in');
    expect(await refused((p) => p.proto(2).str('os.system').tuple(0, () => {}).reduce())).toContain('found a call to str in');
    expect(await refused((p) => p.proto(2).op(0x63).text('os\nsystem\n'))).toContain('the global os.system');
    expect(await refused((p) => p.proto(2).mark().op(0x69).text('os\nsystem\n'))).toContain('found the opcode INST in');
    expect(await refused((p) => p.proto(2).global('torch', 'Tensor').tuple(0, () => {}).op(0x81))).toContain('found a new torch.Tensor object in');
    expect(await refused((p) => p.proto(2).op(0x82, 1))).toContain('found the opcode EXT1 in');
    expect(await refused((p) => p.proto(2).tuple(2, () => p.str('module').str('x')).op(0x51))).toContain('found the persistent id "module" in');
  });

  it('allowGlobals lets named objects through as inert records, never called', async () => {
    const p = new PickleBuilder().proto(2);
    p.dict([
      ['state_dict', () => p.orderedDict([['w', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [6] })]])],
      ['callbacks', () => p.global('pytorch_lightning.callbacks', 'ModelCheckpoint').tuple(1, () => p.int(3)).reduce().dict([['monitor', () => p.str('val')]]).op(0x62)],
    ]);
    const dir = tempDir();
    const path = await zipCheckpoint(dir, p.stop().bytes());
    expect((await rejection(readTorchCheckpoint(path))).message).toContain('found the global pytorch_lightning.callbacks.ModelCheckpoint');
    const { tensors, others } = await readTorchCheckpoint(path, { allowGlobals: ['pytorch_lightning.callbacks.ModelCheckpoint'] });
    expect([...tensors.keys()]).toEqual(['state_dict.w']);
    expect(others).toEqual([{ name: 'callbacks', type: 'pytorch_lightning.callbacks.ModelCheckpoint' }]);
    tensors.get('state_dict.w')!.dispose();
  });
});

describe('corrupt checkpoints', () => {
  it('truncated or garbled archives and pickles', async () => {
    const dir = tempDir();
    const good = await zipCheckpoint(dir, statePickle());
    const bytes = (await import('node:fs')).readFileSync(good);
    const cut = join(dir, 'cut.pt');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    expect((await rejection(openTorchCheckpoint(cut))).message).toMatch(new RegExp(`^Expected a valid zip archive at ${cut} but `));
    const junk = join(dir, 'junk.pt');
    writeFileSync(junk, Buffer.from('hello world'));
    expect(await rejection(openTorchCheckpoint(junk))).toEqual({ code: 'CORRUPT_FILE', message: `Expected a PyTorch checkpoint at ${junk} but it is neither a zip archive nor a pickle stream (it starts with 68 65 6c 6c)` });
    const short = join(dir, 'short.pt');
    await writeZip(short, [['a/data.pkl', statePickle().subarray(0, 100)]]);
    expect((await rejection(openTorchCheckpoint(short))).message).toMatch(/^Expected a valid pickle in short\.pt:a\/data\.pkl but it ends inside an opcode \(at byte \d+, which needs \d+ more bytes than the \d+ left\)$/);
    expect((await rejection(openTorchCheckpoint(join(dir, 'missing.pt')))).code).toBe('IO');
  });

  it('storages that are missing, too short, or smaller than a view', async () => {
    const dir = tempDir();
    const pk = statePickle();
    const noStorage = join(dir, 'nostorage.pt');
    await writeZip(noStorage, [['m/data.pkl', pk], ['m/data/0', bytesOf(S0)]]);
    expect((await rejection(readTorchCheckpoint(noStorage))).message).toBe(`Expected a PyTorch checkpoint at ${noStorage} but its storage 1 has no record m/data/1`);
    const shortStorage = join(dir, 'shortstorage.pt');
    await writeZip(shortStorage, [['m/data.pkl', pk], ['m/data/0', bytesOf(S0).subarray(0, 20)]]);
    expect((await rejection(readTorchCheckpoint(shortStorage))).message).toBe(`Expected a PyTorch checkpoint at ${shortStorage} but its storage 0 has 20 bytes but 6 elements of F32 need 24`);
    const p = new PickleBuilder().proto(2);
    p.orderedDict([['w', () => p.tensor({ key: '0', storageType: 'FloatStorage', numel: 6, shape: [4, 2], stride: [2, 1] })]]);
    const lies = join(dir, 'lies.pt');
    await writeZip(lies, [['m/data.pkl', p.stop().bytes()], ['m/data/0', bytesOf(S0)]]);
    expect((await rejection(openTorchCheckpoint(lies))).message).toBe('Expected a tensor view inside its storage in lies.pt:m/data.pkl but size [4,2], stride [2,1] and offset 0 reach element 7 of storage 0, which has 6');
  });
});
