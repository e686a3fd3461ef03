// gyp-build.test.ts: binding.gyp builds the same CPU sources as CMakeLists.txt (so the two source
// lists cannot drift): node-gyp builds a scratch copy and the result runs an op.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('node-gyp build', () => {
  it('builds the CPU sources with binding.gyp and the addon works', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'treereward-gyp-'));
    try {
      for (const p of ['native', 'scripts', 'binding.gyp', 'package.json']) cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
      execFileSync(process.execPath, [gyp, 'rebuild', '-j', String(os.cpus().length)], { cwd: dir, stdio: 'pipe' });
      const addon = createRequire(import.meta.url)(path.join(dir, 'build', 'Release', 'treereward.node'));
      const a = addon.fromArray(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32');
      expect(Array.from(addon.toArray(addon.matmul(a, a)))).toEqual([7, 10, 15, 22]);
      expect(addon.buildInfo().cudaCompiled).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
