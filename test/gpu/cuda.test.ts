// cuda.test.ts: the CUDA path against the CPU path. Skipped where no GPU is visible; run with `npm run test:gpu`.
import { describe, expect, it } from 'vitest';

import {
  arange, buildInfo, defaultDevice, emptyCache, F, full, hasCuda, memoryStats, onDevice, ones, resetPeakMemory, Rng, tensor, tidy, TreeRewardError, zeros,
  type DType, type Tensor,
} from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

const caught = (fn: () => unknown): TreeRewardError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TreeRewardError);
    return e as TreeRewardError;
  }
  throw new Error('expected an error');
};

/** A pre-norm transformer block (attention by composition, GELU MLP) and its loss, on whichever device its tensors are. */
function blockLoss(p: Record<string, Tensor>, x: Tensor, target: Tensor): Tensor {
  const [B, S, D] = x.shape;
  const H = 2, hd = D / H;
  const heads = (t: Tensor) => t.reshape(B, S, H, hd).permute(0, 2, 1, 3);
  const h = F.layerNorm(x, [D], p.ln1w, p.ln1b);
  const [q, k, v] = F.linear(h, p.wqkv, p.bqkv).chunk(3, -1).map(heads);
  const a = F.attention(q, k, v, { impl: 'plain' }).permute(0, 2, 1, 3).reshape(B, S, D);
  const x1 = x.add(F.linear(a, p.wo, p.bo));
  const m = F.linear(F.linear(F.layerNorm(x1, [D], p.ln2w, p.ln2b), p.w1, p.b1).gelu(), p.w2, p.b2);
  return F.mseLoss(x1.add(m), target);
}

function blockParams(D: number, dtype: DType): Record<string, Tensor> {
  const rng = new Rng(11);
  const w = (o: number, i: number) => rng.randn([o, i], { dtype }).mul(1 / Math.sqrt(i));
  return {
    ln1w: ones([D], { dtype }), ln1b: zeros([D], { dtype }), wqkv: w(3 * D, D), bqkv: rng.randn([3 * D], { dtype }).mul(0.1),
    wo: w(D, D), bo: zeros([D], { dtype }), ln2w: ones([D], { dtype }), ln2b: zeros([D], { dtype }),
    w1: w(4 * D, D), b1: zeros([4 * D], { dtype }), w2: w(D, 4 * D), b2: zeros([D], { dtype }),
  };
}

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
    expect((caught as TreeRewardError).message).toMatch(/^Could not allocate 4398046511104 bytes on the GPU \(\d+ of \d+ bytes free\): .+; \d+ bytes are held by live tensors and \d+ cached bytes were released before the retry$/);
    // the process and the device are still usable
    expect(tensor([1, 2]).to('cuda').to('cpu').toArray()[1]).toBe(2);
  });

  it('mixed devices are a DEVICE error naming both', () => {
    const e = caught(() => tensor([1, 2]).add(tensor([1, 2]).to('cuda')));
    expect(e.code).toBe('DEVICE');
    expect(e.message).toBe('Expected the tensors of add on one device but received cpu and cuda tensors; move them with .to()');
    expect(caught(() => F.linear(tensor([[1, 2]]).to('cuda'), tensor([[1, 2]]))).code).toBe('DEVICE');
  });

  it('creation on cuda gives the cpu numbers', () => {
    const same = (a: Tensor, b: Tensor) => expect(Array.from(a.to('cpu').toArray())).toEqual(Array.from(b.toArray()));
    for (const dtype of ['float32', 'float64', 'bfloat16', 'float16'] as DType[]) {
      same(zeros([3, 5], { dtype, device: 'cuda' }), zeros([3, 5], { dtype }));
      same(ones([7], { dtype, device: 'cuda' }), ones([7], { dtype }));
      same(full([2, 3], -1.3, { dtype, device: 'cuda' }), full([2, 3], -1.3, { dtype }));
      same(arange(0, 9, 0.5, { dtype, device: 'cuda' }), arange(0, 9, 0.5, { dtype }));
      same(new Rng(5).randn([4, 33], { dtype, device: 'cuda' }), new Rng(5).randn([4, 33], { dtype }));
      same(new Rng(5).rand([4, 33], { dtype, device: 'cuda' }), new Rng(5).rand([4, 33], { dtype }));
    }
  });

  it('reads values of cuda tensors (toArray, item) through a host copy', () => {
    tidy(() => {
      const t = tensor([1.5, -2, 4], [3], { device: 'cuda' });
      expect(Array.from(t.toArray())).toEqual([1.5, -2, 4]);
      expect(t.sum().item()).toBe(3.5);
      expect(t.device).toBe('cuda');
    });
  });

  it('makes tensors on cuda inside onDevice("cuda"), the same numbers as on the cpu', () => {
    tidy(() => {
      const [a, b, c] = onDevice('cuda', () => [new Rng(3).randn([5]), zeros([2]), tensor([1, 2])]);
      expect([a.device, b.device, c.device, defaultDevice()]).toEqual(['cuda', 'cuda', 'cuda', 'cpu']);
      expect(Array.from(a.toArray())).toEqual(Array.from(new Rng(3).randn([5]).toArray()));
    });
  });

  it('reports the peak of reserved GPU memory since resetPeakMemory("cuda")', () => {
    tidy(() => {
      emptyCache('cuda');  // nothing cached: the next block is a cudaMalloc
      resetPeakMemory('cuda');
      const base = memoryStats('cuda').peakReservedBytes!;
      expect(base).toBe(memoryStats('cuda').reservedBytes);
      const big = zeros([1 << 20], { device: 'cuda' });  // 4 MiB
      expect(memoryStats('cuda').peakReservedBytes! - base).toBeGreaterThanOrEqual(4 << 20);
      big.dispose();
    });
  });

  it('dropout on cuda draws the cpu mask (same counter-based rng)', () => {
    const x = new Rng(3).randn([17, 65]);
    for (const dtype of ['float32', 'float64', 'bfloat16'] as DType[]) {
      const cpu = F.dropout(x.to(dtype), 0.3, new Rng(9)).toArray();
      const gpu = F.dropout(x.to(dtype).to('cuda'), 0.3, new Rng(9)).to('cpu').toArray();
      expect(Array.from(gpu), dtype).toEqual(Array.from(cpu));
    }
  });

  it('a transformer block forward and backward agree on cpu and cuda (float32, float64)', () => {
    for (const dtype of ['float64', 'float32'] as DType[]) {
      const tol = dtype === 'float64' ? 1e-10 : 1e-4;
      const rng = new Rng(4);
      const x = rng.randn([2, 7, 16], { dtype }), target = rng.randn([2, 7, 16], { dtype });
      const run = (dev: 'cpu' | 'cuda') =>
        tidy(() => {
          const p = Object.fromEntries(Object.entries(blockParams(16, dtype)).map(([k, v]) => [k, v.to(dev).requiresGrad_()]));
          const loss = blockLoss(p, x.to(dev), target.to(dev));
          loss.backward();
          return { loss: loss.to('cpu').toArray()[0], grads: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.grad!.to('cpu').toArray()])) };
        });
      const cpu = run('cpu'), gpu = run('cuda');
      expectClose([gpu.loss], [cpu.loss], tol, tol, `${dtype} loss`);
      for (const k of Object.keys(cpu.grads)) expectClose(gpu.grads[k], cpu.grads[k], tol, tol, `${dtype} gradient of ${k}`);
    }
  });

  it('the caching allocator reuses blocks: no cudaMalloc and flat memory over a training loop', () => {
    const p = Object.fromEntries(Object.entries(blockParams(16, 'float32')).map(([k, v]) => [k, v.to('cuda').requiresGrad_()]));
    const rng = new Rng(6);
    const x = rng.randn([2, 7, 16]).to('cuda'), target = rng.randn([2, 7, 16]).to('cuda');
    const step = () =>
      tidy(() => {
        for (const t of Object.values(p)) t.grad = null;
        blockLoss(p, x, target).backward();
      });
    for (let i = 0; i < 5; i++) step(); // warm the cache
    const before = memoryStats('cuda');
    for (let i = 0; i < 50; i++) step();
    const after = memoryStats('cuda');
    expect(after.mallocs).toBe(before.mallocs);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.cacheHits!).toBeGreaterThan(before.cacheHits! + 50);
  });
});
