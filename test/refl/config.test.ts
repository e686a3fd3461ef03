// config.test.ts: the ReFL config's defaults (ImageReward's ReFL) and its errors in the house form;
// the reward objective (aggregate, one leaf, weighted leaves; -R and relu(2 - R)); the bilinear
// resize ImageReward's preprocessing needs, against PyTorch's F.interpolate values.
import { describe, expect, it } from 'vitest';

import { F, noGrad, Rng, tensor } from '../../src/index.js';
import { bilinearResize } from '../../src/reward/bilinear-resize.js';
import { parseReflConfig } from '../../src/refl/config.js';
import { rewardLoss, selectReward } from '../../src/refl/reward-objective.js';
import { expectClose } from '../helpers/gradcheck.js';

describe('ReFL config', () => {
  it("defaults to ImageReward's ReFL: 40 DDPM steps, the gradient step from 30-39, lambda 0.05, L_reward = -R", () => {
    const c = parseReflConfig({ output: 'out', steps: 10 });
    expect(c.sampling).toMatchObject({ scheduler: { kind: 'ddpm' }, steps: 40, method: { kind: 'refl', stopRange: [30, 39] }, guidanceScale: 1 });
    expect(c.objective).toEqual({ lambda: 0.05, rewardLoss: 'negative', reluMargin: 2, form: 'combined', select: { kind: 'aggregate' } });
    expect(c.train).toMatchObject({ target: 'unet', learningRate: 1e-5, weightDecay: 0.01, maxGradNorm: 1, gradientAccumulation: 1, gradientCheckpointing: false });
    expect(c.train.lora).toEqual({ rank: 4, targets: ['to_q', 'to_k', 'to_v', 'to_out.0'] });
    expect(c.pretrain).toBeNull();
    expect(parseReflConfig({ output: 'o', steps: 1, sampling: { method: { kind: 'draft' } } }).sampling.method).toEqual({ kind: 'draft', k: 1 });
  });

  it('rejects unknown keys and bad values by path', () => {
    expect(() => parseReflConfig({ output: 'o', steps: 1, lamda: 0.1 })).toThrow(/^Expected no (unknown keys|keys other than the known ones) \((unknown: )?lamda\) for config but received/);
    expect(() => parseReflConfig({ output: 'o', steps: 1, train: { target: 'vae' } })).toThrow('Expected one of "unet", "lora" for config.train.target but received "vae"');
    expect(() => parseReflConfig({ output: 'o', steps: 0 })).toThrow('Expected a value >= 1 for config.steps but received 0');
    expect(() => parseReflConfig({ output: 'o', steps: 1, sampling: { steps: 20 } })).toThrow('Expected an index below sampling.steps (20) for config.sampling.method.stopRange[1] but received 39');
    expect(() => parseReflConfig({ output: 'o', steps: 1, sampling: { method: { kind: 'refl', stopRange: [5, 2] } } })).toThrow('Expected an upper end >= the lower end (5) for config.sampling.method.stopRange[1] but received 2');
    expect(() => parseReflConfig({ output: 'o', steps: 1, sampling: { steps: 4, method: { kind: 'draft', k: 5 } } })).toThrow('Expected at most sampling.steps (4) for config.sampling.method.k but received 5');
    expect(() => parseReflConfig({ output: 'o', steps: 1, train: { lora: { targets: ['to_x'] } } })).toThrow(/^Expected one of "to_q", .* for config.train.lora.targets.0 but received "to_x"$/);
  });
});

describe('reward objective', () => {
  const out = {
    reward: tensor([0.5, -1]),
    leafScores: tensor([[1, 2, 3], [4, 5, 6]]),
    leaves: ['content', 'style', 'color'],
  };
  it('selects the aggregate, one leaf or a weighted sum of leaves', () => {
    expect(Array.from(selectReward(out, { kind: 'aggregate' }).toArray())).toEqual([0.5, -1]);
    expect(Array.from(selectReward(out, { kind: 'leaf', leaf: 'style' }).toArray())).toEqual([2, 5]);
    expect(Array.from(selectReward(out, { kind: 'leaves', weights: { content: 1, color: 0.5 } }).toArray())).toEqual([2.5, 7]);
    expect(() => selectReward(out, { kind: 'leaf', leaf: 'detail' })).toThrow('Expected a leaf of the reward model (content, style, color) for objective.select but received "detail"');
    expect(() => selectReward({ reward: out.reward }, { kind: 'leaf', leaf: 'style' })).toThrow('Expected a reward model with leaves for objective.select "leaf" but received one without leaf scores');
  });
  it('L_reward = -mean(R) (eq. 9) or mean(relu(2 - R))', () => {
    expect(rewardLoss(tensor([0.5, -1]), 'negative', 2).item()).toBeCloseTo(0.25, 6);
    expect(rewardLoss(tensor([0.5, 3]), 'relu', 2).item()).toBeCloseTo(0.75, 6);
  });
});

describe('bilinear resize', () => {
  it("matches F.interpolate(bilinear, align_corners=False) upward, and average pooling at half size", () => {
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    // torch.nn.functional.interpolate(x, size=(4, 4), mode='bilinear', align_corners=False)
    const want = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
    expectClose(bilinearResize(x, 4).toArray(), want, 1e-6, 1e-6, 'up');
    const y = new Rng(2).rand([2, 3, 8, 8]);
    expectClose(bilinearResize(y, 4).toArray(), F.avgPool2d(y, 2).toArray(), 1e-6, 1e-6, 'down');
    const g = new Rng(3).rand([1, 3, 6, 6]).requiresGrad_();
    bilinearResize(g, 10).sum().backward();
    expect(noGrad(() => g.grad!.sum().item())).toBeCloseTo(300, 3); // each output pixel's weights sum to one
  });
});
