// torch-save.test.ts: files written by a real torch.save at test time (zip and legacy formats),
// read back and compared with what PyTorch itself says the values are. Skipped where
// /usr/bin/python3 cannot import torch.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertToSafetensors } from '../../src/io/convert.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readTorchCheckpoint } from '../../src/io/torch/checkpoint.js';
import { removeTempDirs, tempDir } from './helpers.js';

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
if (!hasTorch) console.warn('torch-save.test.ts: skipped, /usr/bin/python3 cannot import torch');

const SCRIPT = `
import json, sys, torch
torch.manual_seed(0)
out = sys.argv[1]
base = torch.randn(4, 5)
lin = torch.nn.Linear(5, 3)
tied = torch.randn(2, 2)
sd = {
  'f32': base,
  'transposed': base.t(),
  'rows': base[1:3],
  'cols': base[:, 2:4],
  'stepped': base[::2, ::2],
  'f64': torch.randn(3, dtype=torch.float64),
  'f16': torch.randn(2, 3).half(),
  'bf16': torch.randn(3, 2).bfloat16(),
  'i64': torch.arange(-3, 3),
  'i32': torch.arange(4, dtype=torch.int32),
  'i16': torch.tensor([-300, 300], dtype=torch.int16),
  'i8': torch.tensor([-5, 5], dtype=torch.int8),
  'u8': torch.tensor([0, 255], dtype=torch.uint8),
  'bool': torch.tensor([True, False, True]),
  'scalar': torch.tensor(2.5),
  'empty': torch.zeros(0, 3),
  'tied_a': tied,
  'tied_b': tied,
  'param': torch.nn.Parameter(torch.randn(2)),
}
ckpt = {'state_dict': {**sd, **{'linear.' + k: v for k, v in lin.state_dict().items()}}, 'global_step': 12, 'epoch': 1}
torch.save(ckpt, out + '/zip.ckpt')
torch.save(ckpt, out + '/legacy.pt', _use_new_zipfile_serialization=False)
expected = {('state_dict.' + k): {'shape': list(v.shape), 'values': v.detach().double().flatten().tolist()} for k, v in ckpt['state_dict'].items()}
json.dump(expected, open(out + '/expected.json', 'w'))
torch.save(lin, out + '/module.pt')
`;

describe.skipIf(!hasTorch)('files written by torch.save', () => {
  let dir: string;
  let expected: Record<string, { shape: number[]; values: number[] }>;
  beforeAll(() => {
    dir = tempDir();
    execFileSync(PY, ['-c', SCRIPT, dir], { timeout: 120_000 });
    expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  });
  afterAll(removeTempDirs);

  for (const file of ['zip.ckpt', 'legacy.pt']) {
    it(`reads ${file}: every dtype, views, shared storage, parameters`, async () => {
      const { tensors, others } = await readTorchCheckpoint(join(dir, file), { dtype: 'float64' });
      expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const t = tensors.get(name)!;
        expect(t.shape, name).toEqual(want.shape);
        const got = Array.from(t.toArray());
        // float64 and every integer type are exact; float32 and halves widen exactly to float64
        expect(got, name).toEqual(want.values);
      }
      expect(tensors.get('state_dict.f16')!.dtype).toBe('float64');
      expect(tensors.get('state_dict.i64')!.dtype).toBe('int32');
      expect(others.map((o) => o.name).sort()).toEqual(['epoch', 'global_step']);
      for (const t of tensors.values()) t.dispose();
    });
  }

  it('converts to safetensors in half precision, views gathered', async () => {
    const out = join(dir, 'half.safetensors');
    const r = await convertToSafetensors(join(dir, 'zip.ckpt'), out, { dtype: 'F16', prefixStrip: ['state_dict.'] });
    expect(r.byDtype).toMatchObject({ F16: expect.any(Number), I64: 1, I32: 1, BOOL: 1 });
    const { tensors } = readSafetensors(out, 'float64');
    for (const name of ['transposed', 'cols', 'stepped', 'bf16', 'linear.weight']) {
      const want = expected[`state_dict.${name}`].values;
      const got = Array.from(tensors.get(name)!.toArray());
      got.forEach((v, i) => expect(Math.abs(v - want[i]), name).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -10 + 2 ** -24));
    }
    for (const t of tensors.values()) t.dispose();
  });

  it('a whole pickled nn.Module is refused, naming its class', async () => {
    await expect(readTorchCheckpoint(join(dir, 'module.pt'))).rejects.toThrow('Expected only tensor and container records in the checkpoint but found the global torch.nn.modules.linear.Linear in module.pt:module/data.pkl');
  });
});
