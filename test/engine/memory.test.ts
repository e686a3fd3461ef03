// memory.test.ts: native memory is released deterministically and a long training loop stays flat.
import v8 from 'node:v8';
import vm from 'node:vm';

import { describe, expect, it } from 'vitest';

import { AdamW, F, memoryStats, Rng, tensor, tidy, v8ExternalMemory, zeros } from '../../src/index.js';
import { native } from '../../src/native/addon.js';

// V8's collector on demand (the test process runs without --expose-gc).
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

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

  it('4,000 synchronous forward+backward+step iterations keep native memory and handles flat and RSS within 20 MB', () => {
    // The loop never returns to the event loop (as a user's plain for-loop), so nothing may wait for
    // a finalizer: disposed handles must leave nothing behind (with an object per handle and a native
    // finalizer the same loop grew 66-72 MB: `npx tsx bench/rss-loop.ts --case step --calls 4000` at a2c8e5b).
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
    for (let i = 0; i < 2000; i++) step(); // warm up: optimizer state, allocator, JIT, V8's heap sizes
    collect();
    const native0 = memoryStats().liveBytes, handles0 = native().liveHandles();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 4000; i++) step();
    collect();
    const native1 = memoryStats().liveBytes, handles1 = native().liveHandles();
    const rss1 = process.memoryUsage().rss;
    // Gradients of the last step are still held by the parameters: the same bytes as after warm-up.
    expect(native1).toBe(native0);
    expect(handles1).toBe(handles0);
    expect(rss1 - rss0).toBeLessThan(20 * 1024 * 1024);
  });

  it('a disposed handle is refused even after its slot serves another tensor', () => {
    const a = zeros([3]);
    const stale = a.handle;
    a.dispose();
    const b = zeros([4]); // takes the freed slot (handle = generation x 2^24 + slot), with a newer generation
    expect(b.handle % 2 ** 24).toBe(stale % 2 ** 24);
    expect(b.handle).not.toBe(stale);
    expect(() => native().shape(stale)).toThrow('Expected a live tensor for tensor but received one that was disposed');
    expect(native().isAlive(stale)).toBe(false);
    expect(native().shape(b.handle)).toEqual([4]);
    native().dispose(stale); // a second release of a stale handle changes nothing
    expect(native().isAlive(b.handle)).toBe(true);
    expect(() => native().shape(12345 as never)).toThrow('Expected a tensor for tensor but received the number 12345');
    b.dispose();
  });

  it('a tensor that is never disposed is released once V8 collects it', async () => {
    const before = memoryStats().liveBytes;
    const h = (() => zeros([256, 256]).handle)(); // the raw number outlives its Tensor, which is never disposed
    expect(memoryStats().liveBytes - before).toBe(256 * 256 * 4);
    for (let i = 0; i < 10 && native().isAlive(h); i++) {
      collect();
      await new Promise((r) => setTimeout(r, 5)); // FinalizationRegistry callbacks run from the event loop
    }
    expect(native().isAlive(h)).toBe(false);
    // earlier tests' garbage may go in the same collection: at most what was there before
    expect(memoryStats().liveBytes).toBeLessThanOrEqual(before);
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
