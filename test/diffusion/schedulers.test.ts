// schedulers.test.ts: the noise schedule against the PyTorch peer (bit for bit), the timesteps, and
// each scheduler's step against its closed form computed here in float64 on tiny tensors.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { readSafetensors, Rng, tensor, type Tensor } from '../../src/index.js';
import {
  alphasCumprod, betas, createScheduler, DDIMScheduler, DDPMScheduler, DPMSolverPlusPlusScheduler, EulerScheduler,
  inferenceTimesteps, torchLinspaceF32,
} from '../../src/diffusion/schedulers/index.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const peer = readSafetensors(path.join(fixtures, 'ddim_peer.safetensors')).tensors;
const peerPortable = readSafetensors(path.join(fixtures, 'ddim_peer_default.safetensors')).tensors;
const arr = (t: Tensor): number[] => Array.from(t.toArray());

/** The largest |a - b| / max(1, |b|): relative for large values, absolute for small ones. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/** Elementwise closed form in float64 over flat arrays. */
function map(xs: Tensor[], f: (...v: number[]) => number): number[] {
  const a = xs.map((x) => x.toArray());
  return Array.from(a[0], (_, i) => f(...a.map((v) => v[i])));
}

describe('noise schedule', () => {
  it("reproduces the PyTorch peer's alphas_cumprod bit for bit (AVX2/AVX-512 build: fused multiply-add)", () => {
    const abar = alphasCumprod(betas('scaled_linear', 0.00085, 0.012, 1000));
    expect(Array.from(abar)).toEqual(arr(peer.get('abar')!));
    expect(Array.from(new DDIMScheduler().alphasCumprod)).toEqual(arr(peer.get('abar')!));
  });

  it("reproduces the peer's portable build (ATEN_CPU_CAPABILITY=default) without the fused multiply-add", () => {
    const b = torchLinspaceF32(Math.sqrt(0.00085), Math.sqrt(0.012), 1000, { fma: false }).map((x) => Math.fround(x * x));
    expect(Array.from(alphasCumprod(b))).toEqual(arr(peerPortable.get('abar')!));
  });

  it("the timesteps are the peer's: 10 steps are 901, 801, ..., 1", () => {
    expect(inferenceTimesteps(10, 1000, 'leading', 1)).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    for (const n of [1, 7, 10, 20, 50]) {
      const s = new DDIMScheduler();
      s.setTimesteps(n);
      expect(s.timesteps, `${n} steps`).toEqual(arr(peer.get(`timesteps.${n}`)!));
    }
    // 1000 leading steps with offset 1 would reach t = 1000 (the peer indexes past its table there)
    expect(arr(peer.get('timesteps.1000')!)[0]).toBe(1000);
    expect(() => new DDIMScheduler().setTimesteps(1000)).toThrow('Expected timesteps in [0, 999] (check stepsOffset) for stepsOffset but received 1');
  });

  it("trailing and linspace spacing as diffusers", () => {
    expect(inferenceTimesteps(10, 1000, 'trailing', 0)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(inferenceTimesteps(3, 1000, 'trailing', 0)).toEqual([999, 666, 332]);
    expect(inferenceTimesteps(10, 1000, 'linspace', 0)).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  });

  it('rejects bad steps and configs in the house form', () => {
    expect(() => inferenceTimesteps(0, 1000, 'leading', 1)).toThrow('Expected an integer in [1, 1000] for steps but received 0');
    expect(() => createScheduler({ kind: 'heun' } as never)).toThrow('Expected one of "ddpm", "ddim", "euler", "dpm-solver++" for scheduler.kind but received "heun"');
    expect(() => createScheduler({ kind: 'ddim', eta: -1 })).toThrow('Expected a value >= 0 for scheduler.eta but received -1');
    expect(() => createScheduler({ kind: 'ddim', etaa: 0 } as never)).toThrow('Expected no unknown keys (etaa) for scheduler but received ["etaa"]');
    const s = new DDIMScheduler();
    s.setTimesteps(10);
    const x = tensor([1, 2], [1, 2]);
    expect(() => s.step(x, 900, x)).toThrow('Expected one of this run\'s timesteps (901, ..., 1) or options.prevTimestep for t but received 900');
    expect(() => s.addNoise(x, x, 1000)).toThrow('Expected an integer timestep in [0, 999] for t but received 1000');
  });
});

describe('DDIM', () => {
  const x = peer.get('x')!, eps = peer.get('eps')!;

  it("matches the peer's pred_x0 and step at every timestep, and a 10-step trajectory", () => {
    const s = new DDIMScheduler();
    s.setTimesteps(10);
    for (const t of s.timesteps) {
      const { prevSample, predOriginalSample } = s.step(eps, t, x);
      expect(maxRelDiff(predOriginalSample.toArray(), peer.get(`pred_x0.${t}`)!.toArray()), `pred_x0 at ${t}`).toBeLessThan(2e-6);
      expect(maxRelDiff(prevSample.toArray(), peer.get(`step.${t}`)!.toArray()), `step at ${t}`).toBeLessThan(2e-6);
    }
    let traj = x.clone();
    for (const t of s.timesteps) traj = s.step(traj.mul(0.5), t, traj).prevSample;
    expect(maxRelDiff(traj.toArray(), peer.get('trajectory')!.toArray())).toBeLessThan(1e-5);
  });

  it("matches the peer's add_noise with one timestep per sample", () => {
    const s = new DDIMScheduler();
    const t = arr(peer.get('add_noise.t')!);
    const y = s.addNoise(peer.get('x0')!, peer.get('noise')!, t);
    expect(maxRelDiff(y.toArray(), peer.get('add_noise')!.toArray())).toBeLessThan(2e-6);
  });

  it('eta 0 is deterministic: no noise asked for, the same output twice', () => {
    const s = new DDIMScheduler();
    s.setTimesteps(5);
    const run = () => {
      let z = x.clone();
      for (const t of s.timesteps) z = s.step(z.mul(0.3).add(eps.mul(0.1)), t, z).prevSample;
      return arr(z);
    };
    expect(run()).toEqual(run());
  });

  it('eta > 0 adds the posterior noise of eq. 16', () => {
    const s = new DDIMScheduler({ eta: 0.7 });
    s.setTimesteps(10);
    const z = new Rng(3).randn([2, 4, 3, 3]);
    const t = 501, sp = 401;
    const a = s.alphasCumprod[t], ap = s.alphasCumprod[sp];
    const sigma = 0.7 * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    const got = s.step(eps, t, x, { noise: () => z.clone() }).prevSample;
    const want = map([x, eps, z], (xv, e, zv) => {
      const x0 = (xv - Math.sqrt(1 - a) * e) / Math.sqrt(a);
      return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - sigma * sigma) * e + sigma * zv;
    });
    expect(maxRelDiff(got.toArray(), want)).toBeLessThan(1e-5);
    expect(() => s.step(eps, t, x)).toThrow('Expected options.noise for a DDIM step with eta 0.7 but received undefined');
  });
});

describe('DDPM', () => {
  const x = peer.get('x')!, eps = peer.get('eps')!;

  it('steps to the posterior mean plus sqrt(variance) z (closed form of Ho et al. eq. 7)', () => {
    const s = new DDPMScheduler();
    s.setTimesteps(10);
    const z = new Rng(5).randn([2, 4, 3, 3]);
    for (const [t, sp] of [[901, 801], [101, 1]]) {
      const a = s.alphasCumprod[t], ap = s.alphasCumprod[sp];
      const beta = 1 - a / ap;
      const got = s.step(eps, t, x, { noise: () => z.clone() }).prevSample;
      const want = map([x, eps, z], (xv, e, zv) => {
        const x0 = (xv - Math.sqrt(1 - a) * e) / Math.sqrt(a);
        const mean = (Math.sqrt(ap) * beta / (1 - a)) * x0 + (Math.sqrt(1 - beta) * (1 - ap) / (1 - a)) * xv;
        return mean + Math.sqrt(((1 - ap) / (1 - a)) * beta) * zv;
      });
      expect(maxRelDiff(got.toArray(), want), `t=${t}`).toBeLessThan(1e-5);
    }
  });

  it('the last step lands on the x0 prediction, without noise', () => {
    const s = new DDPMScheduler();
    s.setTimesteps(10);
    const { prevSample, predOriginalSample } = s.step(eps, 1, x);
    expect(maxRelDiff(prevSample.toArray(), predOriginalSample.toArray())).toBeLessThan(1e-6);
  });

  it('clipSample clamps x0', () => {
    const s = new DDPMScheduler({ clipSample: 1 });
    s.setTimesteps(10);
    const x0 = arr(s.step(eps, 901, x, { noise: () => x.mul(0) }).predOriginalSample);
    expect(Math.max(...x0.map(Math.abs))).toBeLessThanOrEqual(1);
  });
});

describe('Euler', () => {
  const x = peer.get('x')!, eps = peer.get('eps')!;
  const sigmaOf = (a: number) => Math.sqrt((1 - a) / a);

  it("steps as diffusers' EulerDiscreteScheduler in sigma space, converted back to x_t", () => {
    const s = new EulerScheduler();
    s.setTimesteps(10);
    const t = 501, sp = 401;
    const a = s.alphasCumprod[t], ap = s.alphasCumprod[sp];
    const sg = sigmaOf(a), sn = sigmaOf(ap);
    const got = s.step(eps, t, x).prevSample;
    const want = map([x, eps], (xv, e) => {
      const xs = xv * Math.sqrt(1 + sg * sg); // diffusers' state: x_sigma = x0 + sigma eps
      const x0 = xs - sg * e; // diffusers: pred_original_sample = sample - sigma * eps
      const d = (xs - x0) / sg;
      return (xs + (sn - sg) * d) / Math.sqrt(1 + sn * sn);
    });
    expect(maxRelDiff(got.toArray(), want)).toBeLessThan(1e-5);
    // the last step goes to sigma 0: the x0 prediction
    const last = s.step(eps, 1, x);
    expect(maxRelDiff(last.prevSample.toArray(), last.predOriginalSample.toArray())).toBeLessThan(1e-6);
  });

  it('ancestral: sigma_down for the drift, sigma_up of fresh noise', () => {
    const s = new EulerScheduler({ ancestral: true });
    s.setTimesteps(10);
    const z = new Rng(9).randn([2, 4, 3, 3]);
    const t = 301, sp = 201;
    const sg = sigmaOf(s.alphasCumprod[t]), sn = sigmaOf(s.alphasCumprod[sp]);
    const up = Math.sqrt((sn ** 2 * (sg ** 2 - sn ** 2)) / sg ** 2), down = Math.sqrt(sn ** 2 - up ** 2);
    const got = s.step(eps, t, x, { noise: () => z.clone() }).prevSample;
    const want = map([x, eps, z], (xv, e, zv) => {
      const xs = xv * Math.sqrt(1 + sg * sg);
      return (xs + (down - sg) * e + up * zv) / Math.sqrt(1 + sn * sn);
    });
    expect(maxRelDiff(got.toArray(), want)).toBeLessThan(1e-5);
  });
});

describe('DPM-Solver++(2M)', () => {
  const x = peer.get('x')!, eps = peer.get('eps')!;

  it('first step first order, second step with the multistep correction', () => {
    const s = new DPMSolverPlusPlusScheduler();
    s.setTimesteps(10);
    const ab = (t: number) => s.alphasCumprod[t];
    const lam = (t: number) => Math.log(Math.sqrt(ab(t)) / Math.sqrt(1 - ab(t)));
    const eps2 = eps.mul(-0.5);
    const x1 = s.step(eps, 901, x).prevSample;
    const h1 = lam(801) - lam(901);
    const want1 = map([x, eps], (xv, e) => {
      const d0 = (xv - Math.sqrt(1 - ab(901)) * e) / Math.sqrt(ab(901));
      return (Math.sqrt(1 - ab(801)) / Math.sqrt(1 - ab(901))) * xv - Math.sqrt(ab(801)) * (Math.exp(-h1) - 1) * d0;
    });
    expect(maxRelDiff(x1.toArray(), want1)).toBeLessThan(1e-5);
    const x2 = s.step(eps2, 801, x1).prevSample;
    const h2 = lam(701) - lam(801), r = h1 / h2;
    const want2 = map([x, eps, x1, eps2], (xv, e, x1v, e2) => {
      const m1 = (xv - Math.sqrt(1 - ab(901)) * e) / Math.sqrt(ab(901));
      const m0 = (x1v - Math.sqrt(1 - ab(801)) * e2) / Math.sqrt(ab(801));
      const d = m0 + (m0 - m1) / (2 * r);
      return (Math.sqrt(1 - ab(701)) / Math.sqrt(1 - ab(801))) * x1v - Math.sqrt(ab(701)) * (Math.exp(-h2) - 1) * d;
    });
    expect(maxRelDiff(x2.toArray(), want2)).toBeLessThan(1e-5);
  });
});

describe('the forward process and parametrisations', () => {
  const x0 = peer.get('x0')!, noise = peer.get('noise')!;
  const t = [0, 1, 500, 999];

  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    it(`x0 prediction inverts addNoise with the true ${predictionType} target, at every scheduler`, () => {
      for (const kind of ['ddpm', 'ddim', 'euler', 'dpm-solver++'] as const) {
        const s = createScheduler({ kind, predictionType });
        const xt = s.addNoise(x0, noise, t);
        const target = s.trainingTarget(x0, noise, t);
        const back = s.predOriginalSample(xt, target, t);
        // at t = 999, sqrt(abar) is 0.068: the inversion divides float32 rounding by it
        expect(maxRelDiff(back.toArray(), x0.toArray()), `${kind}`).toBeLessThan(2e-4);
        const epsBack = s.predEpsilon(xt, target, t);
        expect(maxRelDiff(epsBack.slice(0, 1, 4).toArray(), noise.slice(0, 1, 4).toArray()), `${kind} eps`).toBeLessThan(2e-3);
        // one shared timestep: the same as per-sample
        const one = s.predOriginalSample(s.addNoise(x0, noise, 500), s.trainingTarget(x0, noise, 500), 500);
        expect(maxRelDiff(one.toArray(), x0.toArray())).toBeLessThan(1e-5);
      }
    });
  }

  it('the v target is sqrt(abar) eps - sqrt(1 - abar) x0', () => {
    const s = createScheduler({ kind: 'ddim', predictionType: 'v_prediction' });
    const v = s.velocity(x0, noise, 500);
    const a = s.alphasCumprod[500];
    expect(maxRelDiff(v.toArray(), map([x0, noise], (xv, n) => Math.sqrt(a) * n - Math.sqrt(1 - a) * xv))).toBeLessThan(1e-5);
  });
});
