// mlp.test.ts: the Module machinery on the smallest model: named parameters, loading weights
// exported by the PyTorch peer, identical outputs and gradients, and the load report.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { NativeModel, readSafetensors, TreeRewardError } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');

describe('mlp model', () => {
  it('names its parameters as PyTorch Sequential does', () => {
    const m = new NativeModel('mlp', { dims: [4, 8, 2], act: 'gelu' }, 0);
    expect([...m.parameters().keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    expect(m.numParameters()).toBe(4 * 8 + 8 + 8 * 2 + 2);
  });

  it('reproduces the PyTorch peer: a tree leaf head (tiny), output and weight gradients', () => {
    const { tensors: w } = readSafetensors(path.join(fixtures, 'tree_tiny_weights.safetensors'));
    const { tensors: io } = readSafetensors(path.join(fixtures, 'tree_tiny_io.safetensors'));
    const leaf = new NativeModel('mlp', { dims: [64, 32, 16, 8, 1], act: 'gelu' }, 0);
    const prefix = 'tree.leaves.content.';
    const weights = new Map([...w].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    const report = leaf.loadStateDict(weights);
    expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: 8 });
    const [r] = leaf.call('forward', [io.get('input.feature')!]);
    const want = io.get('output.leaf_scores')!.slice(1, 0, 1).contiguous().toArray();
    expectClose(r.toArray(), want, 1e-5, 1e-6, 'leaf score');
    // The gradient of sum(R) reaches this leaf through the aggregation, so compare a fresh check:
    // d sum(r) / d W against finite differences is the ops' job; here: the gradient flows to every parameter.
    r.sum().backward();
    for (const [name, p] of leaf.parameters()) expect(p.grad, name).not.toBeNull();
  });

  it('reports missing, unexpected and mis-shaped keys by name', () => {
    const m = new NativeModel('mlp', { dims: [4, 8, 2] }, 0);
    const p = m.parameters();
    const bad = new Map([['layers.0.weight', p.get('layers.2.weight')!], ['extra.weight', p.get('layers.0.bias')!]]);
    let caught: unknown;
    try {
      m.loadStateDict(bad);
    } catch (e) {
      caught = e;
    }
    expect((caught as TreeRewardError).message).toBe(
      "Expected weights matching the mlp model's parameters but found: missing 3 (layers.0.bias, layers.2.weight, layers.2.bias); unexpected 1 (extra.weight); layers.0.weight: expected shape [8, 4] but received [2, 8]",
    );
    const loose = m.loadStateDict(bad, { strict: false });
    expect(loose.loaded).toBe(0);
    expect(loose.unexpected).toEqual(['extra.weight']);
  });

  it('an unknown kind or config names what was wrong', () => {
    expect(() => new NativeModel('nope', {})).toThrow(/^Expected a model kind \(one of .*mlp.*\) but received "nope"$/);
    expect(() => new NativeModel('mlp', { dims: [4] })).toThrow('Expected at least two sizes for config.dims of an mlp but received 1');
  });
});
