// cuda.test.ts: the CUDA path against the CPU path. Skipped where no GPU is visible; run with `npm run test:gpu`.
import { describe, expect, it } from 'vitest';

import { buildInfo, hasCuda, Rng, tensor, TreeRewardError, zeros } from '../../src/index.js';

describe.skipIf(!hasCuda())('cuda', () => {
  it('reports the device', () => {
    const info = buildInfo();
    expect(info.cudaCompiled).toBe(true);
    expect(info.cudaDevice.length).toBeGreaterThan(0);
  });

  it('moves tensors to the GPU and back unchanged', () => {
    const x = new Rng(1).randn([3, 257]);
    const back = x.to('cuda').to('cpu');
    expect(Array.from(back.toArray())).toEqual(Array.from(x.toArray()));
    expect(x.to('cuda').device).toBe('cuda');
  });

  it('add on the GPU equals add on the CPU, with broadcasting, float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const rng = new Rng(2);
      const a = rng.randn([4, 1, 33], { dtype }), b = rng.randn([5, 33], { dtype });
      const cpu = a.add(b).toArray();
      const gpu = a.to('cuda').add(b.to('cuda')).to('cpu').toArray();
      expect(Array.from(gpu)).toEqual(Array.from(cpu));
    }
  });

  it('out of GPU memory is a named error with the sizes', () => {
    let caught: unknown;
    try {
      zeros([1 << 20, 1 << 20], { device: 'cuda' }); // 4 TiB
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TreeRewardError);
    expect((caught as TreeRewardError).code).toBe('OUT_OF_MEMORY');
    expect((caught as TreeRewardError).message).toMatch(/^Could not allocate 4398046511104 bytes on the GPU \(\d+ of \d+ bytes free\)/);
    // the process and the device are still usable
    expect(tensor([1, 2]).to('cuda').to('cpu').toArray()[1]).toBe(2);
  });
});
