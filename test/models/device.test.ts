// device.test.ts: moving native models between devices (NativeModel.to and the wrappers' to) where the
// CPU is all there is: to('cpu') changes nothing; to('cuda') without a usable GPU throws the error
// Tensor.to('cuda') throws and leaves the model whole on the CPU; bad devices fail before the addon
// is called. test/gpu/models-to.test.ts runs the same tiny models on cuda.
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  ClipModel, hasCuda, ImageRewardScorer, moveModels, NativeModel, TreeRewardError, UNet, zeros, type Tensor,
} from '../../src/index.js';
import { native } from '../../src/native/addon.js';
import { differences, TINY_CASES, zeroGrads, type Movable } from '../helpers/tiny-models.js';
import { errorOf } from '../helpers/error-of.js';

/** Every parameter: its device, leaf-ness and requiresGrad, by name. */
function paramStates(m: Movable): string[] {
  return [...m.parameters()].map(([k, p]) => `${k} ${p.device} ${p.isLeaf} ${p.requiresGrad}`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('NativeModel.to on the CPU', () => {
  for (const c of TINY_CASES) {
    it(`${c.name}: to('cpu') returns the model and keeps outputs and gradients bit for bit`, () => {
      const m = c.make(3);
      const before = c.run(m, 'cpu');
      zeroGrads(m);
      const params = [...m.parameters().values()];
      expect(m.to('cpu')).toBe(m);
      expect(m.device).toBe('cpu');
      expect([...m.parameters().values()]).toEqual(params);  // the same handles
      expect(differences(c.run(m, 'cpu'), before)).toEqual([]);
      m.dispose();
    });
  }
});

describe.skipIf(hasCuda())("to('cuda') where no GPU can be used", () => {
  const tensorError = () => errorOf(() => zeros([2]).to('cuda'));

  it("throws the error Tensor.to('cuda') throws", () => {
    const want = tensorError();
    expect(want.code).toBe('CUDA_UNAVAILABLE');
    const unet = UNet.fromConfig('tiny', 0);
    const e = errorOf(() => unet.to('cuda'));
    expect(e).toBeInstanceOf(TreeRewardError);
    expect(e.code).toBe(want.code);
    expect(e.message).toBe(want.message);
    unet.dispose();
  });

  for (const c of TINY_CASES) {
    it(`${c.name}: leaves every parameter and gradient on the CPU, and the model runs as before`, () => {
      const m = c.make(5);
      const states = paramStates(m);
      const before = c.run(m, 'cpu');  // gradients are set now: they must survive the failed move
      expect(() => m.to('cuda')).toThrow(tensorError().message);
      expect(m.device).toBe('cpu');
      expect(paramStates(m)).toEqual(states);
      const grads: Record<string, Float32Array> = {};
      for (const [k, p] of m.parameters()) {
        const g = p.grad as Tensor;
        expect(g.device, k).toBe('cpu');
        grads[`grad.${k}`] = Float32Array.from(g.toArray());
        g.dispose();
      }
      expect(differences(grads, Object.fromEntries(Object.entries(before).filter(([k]) => k in grads)))).toEqual([]);
      zeroGrads(m);
      expect(differences(c.run(m, 'cpu'), before)).toEqual([]);
      m.dispose();
    });
  }

  it('moves a model made of parts as one: CLIP, ImageReward', () => {
    const clip = new ClipModel('tiny', 0);
    expect(clip.to('cpu')).toBe(clip);
    expect(() => clip.to('cuda')).toThrow(tensorError().message);
    expect([clip.device, clip.text.device, clip.vision.device]).toEqual(['cpu', 'cpu', 'cpu']);
    const scorer = new ImageRewardScorer('tiny', 0);
    expect(() => scorer.to('cuda')).toThrow(tensorError().message);
    expect([scorer.device, scorer.blip.device, scorer.head.device]).toEqual(['cpu', 'cpu', 'cpu']);
    clip.dispose();
    scorer.dispose();
  });
});

describe('NativeModel.to: arguments', () => {
  it('rejects a device other than "cpu" or "cuda" before calling the addon', () => {
    const spy = vi.spyOn(native(), 'modelTo');
    const unet = UNet.fromConfig('tiny', 0);
    const clip = new ClipModel('tiny', 0);
    for (const [bad, shown] of [['gpu', '"gpu"'], [3, '3'], [undefined, 'undefined'], ['CUDA', '"CUDA"']] as const) {
      for (const move of [() => unet.to(bad as never), () => clip.to(bad as never), () => moveModels([unet], bad as never)]) {
        const e = errorOf(move);
        expect(e).toBeInstanceOf(TreeRewardError);
        expect(e.code).toBe('DEVICE');
        expect(e.message).toBe(`Expected "cpu" or "cuda" for device but received ${shown}`);
      }
    }
    expect(spy).not.toHaveBeenCalled();
    expect(unet.device).toBe('cpu');
    unet.dispose();
    clip.dispose();
  });

  it('rejects a disposed model', () => {
    const m = new NativeModel('mlp', { dims: [4, 2], act: 'none' }, 0);
    m.dispose();
    const e = errorOf(() => m.to('cpu'));
    expect(e.code).toBe('DISPOSED');
    expect(e.message).toBe('Expected a live mlp model but received one that was disposed');
  });
});
