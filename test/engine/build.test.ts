// build.test.ts: facts of the build: BLAS found, backends say what they support, the thread pool.
import { describe, expect, it } from 'vitest';

import { buildInfo, hasCuda, numThreads, Rng, setNumThreads } from '../../src/index.js';
import { native } from '../../src/native/addon.js';

describe('build', () => {
  it('links a BLAS on machines that have libopenblas-dev (CI installs it)', () => {
    if (process.env.TREEREWARD_BLAS === '0') return;
    expect(buildInfo().blas).toBe(true);
  });

  it('backends say what they support instead of crashing', () => {
    expect(native().supports('Conv2d', 'float32', 'cpu')).toBe(true);
    expect(native().supports('Conv2d', 'int32', 'cpu')).toBe(false);
    expect(native().supports('Add', 'float32', 'cuda')).toBe(buildInfo().cudaCompiled);
    expect(() => native().supports('Nope', 'float32', 'cpu')).toThrow('Expected an op name for supports but received "Nope"');
    expect(typeof hasCuda()).toBe('boolean');
    // this machine's compiler has OpenMP: parallel_for shares oneDNN's GNU OpenMP threads
    expect(buildInfo().threading).toBe('openmp');
  });

  it('results do not depend on the thread count', () => {
    const before = numThreads();
    const rng = new Rng(4);
    const a = rng.randn([64, 300]), b = rng.randn([300, 70]);
    const r1 = a.matmul(b).gelu().sum(1).toArray();
    setNumThreads(1);
    const r2 = a.matmul(b).gelu().sum(1).toArray();
    setNumThreads(before);
    expect(numThreads()).toBe(before);
    for (let i = 0; i < r1.length; i++) expect(r2[i]).toBeCloseTo(r1[i], 3);
  });
});
