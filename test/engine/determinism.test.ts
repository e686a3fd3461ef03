// determinism.test.ts: the same seed gives bit-identical numbers, in one process and across
// processes with different thread counts.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { AdamW, F, Rng } from '../../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function trainDigest(seed: number): string {
  const rng = new Rng(seed);
  const w = rng.randn([16, 8], { requiresGrad: true });
  const x = rng.randn([32, 8]), y = rng.randn([32, 16]);
  const opt = new AdamW([w], { lr: 0.01 });
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    F.mseLoss(F.dropout(F.linear(x, w).gelu(), 0.1, rng), y).backward();
    opt.step();
  }
  return Buffer.from(w.toArray().buffer).toString('hex');
}

describe('determinism', () => {
  it('randn is a pure function of (seed, position)', () => {
    const a = new Rng(123).randn([1000]).toArray();
    const b = new Rng(123).randn([1000]).toArray();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const r = new Rng(123);
    r.randn([10]);
    const tail = r.randn([990]).toArray();
    expect(Array.from(tail)).toEqual(Array.from(a.slice(10)));
    let m = 0, v = 0;
    for (const x of a) m += x / a.length;
    for (const x of a) v += (x - m) ** 2 / a.length;
    expect(Math.abs(m)).toBeLessThan(0.1);
    expect(Math.abs(v - 1)).toBeLessThan(0.1);
  });

  it('a seeded training run is bit-identical twice in one process', () => {
    expect(trainDigest(9)).toBe(trainDigest(9));
    expect(trainDigest(9)).not.toBe(trainDigest(10));
  });

  it('and across processes with 1 and 2 threads', () => {
    const script = `import { Rng } from './src/index.ts'; process.stdout.write(Buffer.from(new Rng(77).randn([4096]).toArray().buffer).toString('hex').slice(0, 4000));`;
    const run = (threads: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        env: { ...process.env, TREEREWARD_THREADS: threads },
      }).toString();
    const one = run('1');
    expect(one.length).toBe(4000);
    expect(run('2')).toBe(one);
    expect(Buffer.from(new Rng(77).randn([4096]).toArray().buffer).toString('hex').slice(0, 4000)).toBe(one);
  });
});
