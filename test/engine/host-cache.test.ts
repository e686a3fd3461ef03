// host-cache.test.ts: the caching allocator of host tensor memory (native/core/host_cache): freed
// blocks of 128 KiB or more are reused, a reused block handed to zeros() is zero, a training loop
// stops asking the C library for memory once warm, emptyCache gives the blocks back, the cap holds,
// and TREEREWARD_CPU_CACHE=0 turns it off.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { AdamW, emptyCache, F, full, memoryStats, Rng, tidy, zeros } from '../../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('host caching allocator', () => {
  it('reuses a freed block of the same bucket and counts it', () => {
    emptyCache();
    const a = zeros([256, 1024]); // 1 MiB
    a.dispose();
    const s0 = memoryStats();
    expect(s0.cachedBytes).toBeGreaterThanOrEqual(1 << 20);
    const b = zeros([256, 1024]);
    const s1 = memoryStats();
    expect(s1.cacheHits! - s0.cacheHits!).toBe(1);
    expect(s1.mallocs).toBe(s0.mallocs);
    expect(s1.cachedBytes).toBe(s0.cachedBytes! - (1 << 20));
    b.dispose();
  });

  it('a reused block is zero when zeros() asks for it, and keeps nothing of its last tensor', () => {
    emptyCache();
    const a = full([300, 1000], 7); // 1.2 MB, filled with 7
    a.dispose();
    const hits = memoryStats().cacheHits!;
    const z = zeros([300, 1000]);
    expect(memoryStats().cacheHits! - hits).toBe(1);
    const v = z.toArray();
    expect(v.every((x) => x === 0)).toBe(true);
    z.dispose();
  });

  it('small buffers bypass the cache; emptyCache gives every block back', () => {
    emptyCache();
    expect(memoryStats().cachedBytes).toBe(0);
    const small = zeros([1000]); // 4 KB: from the C library's bins
    small.dispose();
    expect(memoryStats().cachedBytes).toBe(0);
    const big = zeros([1 << 20]); // 4 MiB
    big.dispose();
    expect(memoryStats().cachedBytes).toBeGreaterThanOrEqual(4 << 20);
    emptyCache();
    expect(memoryStats().cachedBytes).toBe(0);
  });

  it('a training loop stops taking memory from the C library once warm', () => {
    const rng = new Rng(3);
    const params = [rng.randn([256, 256]).mul(0.05).requiresGrad_(), zeros([256], { requiresGrad: true })];
    const opt = new AdamW(params, { lr: 1e-3 });
    const x = rng.randn([512, 256]), y = rng.randn([512, 256]);
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        F.mseLoss(F.linear(x, params[0], params[1]).gelu(), y).backward();
        opt.step();
      });
    for (let i = 0; i < 5; i++) step();
    const s0 = memoryStats();
    for (let i = 0; i < 50; i++) step();
    const s1 = memoryStats();
    expect(s1.mallocs).toBe(s0.mallocs);
    expect(s1.cacheHits! - s0.cacheHits!).toBeGreaterThan(50 * 4); // every step's large buffers came from the cache
    expect(s1.liveBytes).toBe(s0.liveBytes);
  });

  it('TREEREWARD_CPU_CACHE=0 turns the cache off; TREEREWARD_CPU_CACHE_MB caps it', () => {
    const script = `
      import { memoryStats, zeros } from './src/index.ts';
      for (let i = 0; i < 4; i++) zeros([1 << 20]).dispose(); // 4 MiB each, one at a time
      const a = [zeros([1 << 20]), zeros([1 << 20]), zeros([1 << 20])];
      for (const t of a) t.dispose();
      const s = memoryStats();
      console.log(JSON.stringify({ cached: s.cachedBytes, cap: s.cacheCapBytes, mallocs: s.mallocs }));`;
    const run = (env: Record<string, string>) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop()!,
      ) as { cached: number; cap: number; mallocs: number };
    const off = run({ TREEREWARD_CPU_CACHE: '0' });
    expect(off.cached).toBe(0);
    expect(off.cap).toBe(0);
    const capped = run({ TREEREWARD_CPU_CACHE_MB: '9' });
    expect(capped.cap).toBe(9 << 20);
    expect(capped.cached).toBe(8 << 20); // two of the three 4 MiB blocks fit under 9 MiB; the third went back
    const on = run({});
    expect(on.cached).toBe(12 << 20);
    expect(on.mallocs).toBeLessThan(off.mallocs);
  });
});
