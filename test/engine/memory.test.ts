// memory.test.ts: native memory is released deterministically and a long training loop stays flat.
import { describe, expect, it } from 'vitest';

import { AdamW, F, memoryStats, Rng, tensor, tidy, v8ExternalMemory, zeros } from '../../src/index.js';

describe('memory', () => {
  it('dispose, `using` and tidy release native buffers at once', () => {
    const before = memoryStats().liveBytes;
    const a = zeros([256, 256]);
    expect(memoryStats().liveBytes - before).toBe(256 * 256 * 4);
    a.dispose();
    expect(memoryStats().liveBytes).toBe(before);
    {
      using b = zeros([128]);
      expect(b.numel).toBe(128);
    }
    expect(memoryStats().liveBytes).toBe(before);
    const kept = tidy(() => {
      const x = zeros([64, 64]);
      const y = x.add(1).mul(2);
      return y.sum();
    });
    expect(memoryStats().liveBytes - before).toBe(4);
    kept.dispose();
    expect(memoryStats().liveBytes).toBe(before);
  });

  it('2,000 forward+backward+step iterations keep native memory flat and RSS within 40 MB', () => {
    const rng = new Rng(1);
    const params = [rng.randn([64, 32]).mul(0.1).requiresGrad_(), zeros([64], { requiresGrad: true }), rng.randn([1, 64]).mul(0.1).requiresGrad_(), zeros([1], { requiresGrad: true })];
    const opt = new AdamW(params, { lr: 1e-3 });
    const x = rng.randn([32, 32]), y = rng.randn([32, 1]);
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        const h = F.linear(x, params[0], params[1]).gelu();
        const loss = F.mseLoss(F.linear(h, params[2], params[3]), y);
        loss.backward();
        opt.step();
      });
    for (let i = 0; i < 100; i++) step(); // warm up: optimizer state, allocator, JIT
    global.gc?.();
    const native0 = memoryStats().liveBytes;
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) step();
    global.gc?.();
    const native1 = memoryStats().liveBytes;
    const rss1 = process.memoryUsage().rss;
    // Gradients of the last step are still held by the parameters: the same bytes as after warm-up.
    expect(native1).toBe(native0);
    expect(rss1 - rss0).toBeLessThan(40 * 1024 * 1024);
  });

  it('native bytes are reported to V8 as external memory', () => {
    const before = v8ExternalMemory();
    const big = zeros([1024, 1024, 8]); // 32 MiB
    const during = v8ExternalMemory();
    // V8's total also moves with other native objects freed meanwhile: allow 64 KiB of noise.
    expect(Math.abs(during - before - 32 * 1024 * 1024)).toBeLessThan(65536);
    big.dispose();
    expect(Math.abs(v8ExternalMemory() - before)).toBeLessThan(65536);
  });

  it('memoryStats reports the high-water mark', () => {
    const t = tensor([1, 2, 3]);
    const s = memoryStats();
    expect(s.peakBytes).toBeGreaterThanOrEqual(s.liveBytes);
    t.dispose();
  });
});
