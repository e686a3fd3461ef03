// training.test.ts: optimizers end to end: an MLP learns XOR with AdamW, SGD matches its
// closed form, clipping, parameter groups, accumulation and schedules.
import { describe, expect, it } from 'vitest';

import { AdamW, clipGradNorm, cosineSchedule, F, linearWarmup, Rng, SGD, tensor, tidy, type Tensor } from '../../src/index.js';

function mlp(rng: Rng, sizes: number[]): Tensor[] {
  const params: Tensor[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    params.push(rng.randn([sizes[i + 1], sizes[i]]).mul(1 / Math.sqrt(sizes[i])).requiresGrad_());
    params.push(tensor(new Float32Array(sizes[i + 1]), [sizes[i + 1]], { requiresGrad: true }));
  }
  return params;
}

function forward(params: Tensor[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < params.length; i += 2) {
    h = F.linear(h, params[i], params[i + 1]);
    if (i + 2 < params.length) h = h.tanh();
  }
  return h;
}

describe('training', () => {
  it('a 2-layer MLP learns XOR with AdamW to a loss below 0.01', () => {
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    const params = mlp(new Rng(42), [2, 16, 1]);
    const opt = new AdamW(params, { lr: 0.05, weightDecay: 0 });
    let loss = Infinity;
    for (let step = 0; step < 400; step++) {
      loss = tidy(() => {
        opt.zeroGrad();
        const l = F.mseLoss(forward(params, x), y);
        l.backward();
        opt.step();
        return l.item();
      });
    }
    expect(loss).toBeLessThan(0.01);
  });

  it('SGD with momentum follows the closed form', () => {
    const p = tensor([1], undefined, { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    // loss = p^2 / 2, gradient = p; buf1 = g1; buf2 = 0.9 buf1 + g2
    p.mul(p).mul(0.5).backward();
    opt.step();
    expect(p.item()).toBeCloseTo(0.9, 12);
    opt.zeroGrad();
    p.mul(p).mul(0.5).backward();
    opt.step();
    expect(p.item()).toBeCloseTo(0.9 - 0.1 * (0.9 * 1 + 0.9), 12);
  });

  it('AdamW applies decoupled weight decay and bias correction like PyTorch', () => {
    const p = tensor([2], undefined, { dtype: 'float64', requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    p.mul(3).sum().backward(); // gradient 3
    opt.step();
    // step 1: mhat = g, vhat = g^2 -> update = g/(|g| + eps) + wd * p = 1 + 1
    expect(p.item()).toBeCloseTo(2 - 0.1 * (3 / (3 + 1e-8) + 0.5 * 2), 10);
  });

  it('parameter groups keep their own learning rates, and schedules scale them', () => {
    const a = tensor([1], undefined, { dtype: 'float64', requiresGrad: true });
    const b = tensor([1], undefined, { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([{ params: [a], lr: 0.1 }, { params: [b] }], { lr: 0.01 });
    a.add(b).sum().backward();
    opt.step();
    expect(a.item()).toBeCloseTo(0.9, 12);
    expect(b.item()).toBeCloseTo(0.99, 12);
    opt.setLrFactor(0.5);
    expect(opt.groups.map((g) => g.options.lr)).toEqual([0.05, 0.005]);
    const warm = linearWarmup(4);
    expect([0, 1, 3, 10].map(warm)).toEqual([0.25, 0.5, 1, 1]);
    const cos = cosineSchedule({ warmupSteps: 2, totalSteps: 12, minFactor: 0.1 });
    expect(cos(0)).toBeCloseTo(0.5);
    expect(cos(2)).toBeCloseTo(1);
    expect(cos(7)).toBeCloseTo(0.55);
    expect(cos(12)).toBeCloseTo(0.1);
  });

  it('gradient accumulation over micro-batches equals one full batch', () => {
    const rng = new Rng(7);
    const x = rng.randn([8, 3], { dtype: 'float64' }), y = rng.randn([8, 1], { dtype: 'float64' });
    const w1 = rng.randn([1, 3], { dtype: 'float64', requiresGrad: true });
    const w2 = w1.detach().clone().requiresGrad_();
    F.mseLoss(F.linear(x, w1), y).backward();
    for (let i = 0; i < 8; i += 4) F.mseLoss(F.linear(x.slice(0, i, i + 4), w2), y.slice(0, i, i + 4)).mul(0.5).backward();
    const g1 = w1.grad!.toArray(), g2 = w2.grad!.toArray();
    for (let i = 0; i < 3; i++) expect(g2[i]).toBeCloseTo(g1[i], 12);
  });

  it('clipGradNorm scales gradients to the max norm and returns the norm before', () => {
    const a = tensor([3], undefined, { requiresGrad: true });
    const b = tensor([4], undefined, { requiresGrad: true });
    a.mul(b).sum().backward(); // grads: a <- 4, b <- 3
    const norm = clipGradNorm([a, b], 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(a.grad!.item()).toBeCloseTo(0.8, 5);
    expect(b.grad!.item()).toBeCloseTo(0.6, 5);
  });

  it('optimizer state round-trips for resume: the resumed run takes the same next step', () => {
    const run = (resume: boolean) => {
      const p = tensor([1, -2], undefined, { dtype: 'float64', requiresGrad: true });
      let opt = new AdamW([p], { lr: 0.1 });
      for (let i = 0; i < 3; i++) {
        opt.zeroGrad();
        p.pow(2).sum().backward();
        opt.step();
        if (resume && i === 1) {
          const saved = opt.state();
          opt = new AdamW([p], { lr: 0.1 });
          opt.loadState(saved);
        }
      }
      return Array.from(p.toArray());
    };
    expect(run(true)).toEqual(run(false));
  });
});
