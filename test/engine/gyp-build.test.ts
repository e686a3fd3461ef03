// gyp-build.test.ts: binding.gyp builds the same CPU sources as CMakeLists.txt (so the two source
// lists cannot drift): node-gyp builds a scratch copy and the result runs an op.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { Rng } from '../../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('node-gyp build', () => {
  // Built without BLAS (TREEREWARD_BLAS=0), so this also checks the portable gemm against the BLAS build.
  it('builds the CPU sources with binding.gyp, without BLAS, and its portable gemm agrees with the BLAS build', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'treereward-gyp-'));
    try {
      for (const p of ['native', 'scripts', 'binding.gyp', 'package.json']) cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
      execFileSync(process.execPath, [gyp, 'rebuild', '-j', String(os.cpus().length)], { cwd: dir, stdio: 'pipe', env: { ...process.env, TREEREWARD_BLAS: '0' } });
      const addon = createRequire(import.meta.url)(path.join(dir, 'build', 'Release', 'treereward.node'));
      const a = addon.fromArray(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32');
      expect(Array.from(addon.toArray(addon.matmul(a, a)))).toEqual([7, 10, 15, 22]);
      expect(addon.buildInfo().cudaCompiled).toBe(false);
      expect(addon.buildInfo().blas).toBe(false);
      // Odd sizes, transposed operand, batched: portable kernel vs the main build (BLAS where found).
      for (const [M, K, N] of [[37, 53, 29], [1, 300, 7], [128, 64, 96]]) {
        const rng = new Rng(M * 1000 + N);
        const a = rng.randn([2, M, K]), b = rng.randn([2, N, K]);
        const want = a.matmul(b.transpose(-1, -2)).toArray();
        const pa = addon.fromArray(a.toArray(), [2, M, K], 'float32'), pb = addon.fromArray(b.toArray(), [2, N, K], 'float32');
        const got = addon.toArray(addon.matmul(pa, addon.transpose(pb, -1, -2))) as Float32Array;
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * (1 + Math.abs(want[i])));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
