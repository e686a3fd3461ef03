// sim.test.ts: the CUDA simulator checks itself (native/cuda/sim/selftest.cu): barriers and shuffles compute
// what CUDA defines, and each mistake the simulator claims to catch (a missing __syncthreads, a barrier some
// threads never reach, a race between warps that only warp-level syncs separate, launch limits, the shared-memory opt-in, writes past an allocation, shuffles from
// exited lanes, misaligned wmma pointers, device memory capacity) is caught, under three thread orders.
// Runs only where the 'cuda' device is the simulator (npm run test:cuda-sim).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { buildInfo, hasCuda } from '../../src/index.js';

const simulated = hasCuda() && buildInfo().cudaDevice.includes('simulator');
const exe = path.join(path.dirname(process.env.TREEREWARD_ADDON ?? ''), 'trsim-selftest');

interface Check { name: string; ok: boolean; detail: string }

function selftest(seed: number): Check[] {
  const r = spawnSync(exe, { encoding: 'utf8', env: { ...process.env, TRSIM_SEED: String(seed), TRSIM_MEMORY_MB: '64' } });
  expect(r.error, `${exe} did not start`).toBeUndefined();
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Check);
}

describe.skipIf(!simulated)('the CUDA simulator', () => {
  it('has its self-test built beside the addon', () => {
    expect(existsSync(exe), exe).toBe(true);
  });

  for (const seed of [1, 2, 3]) {
    it(`passes every self-check with thread order seed ${seed}`, () => {
      const checks = selftest(seed);
      expect(checks.length).toBe(13);
      for (const c of checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    });
  }

  it('names the simulator and our own matrix kernel (no cuBLAS)', () => {
    expect(buildInfo().cudaDevice).toBe('treereward CUDA simulator (CPU)');
    expect(buildInfo().cudaGemm).toBe('tiled');
  });
});
