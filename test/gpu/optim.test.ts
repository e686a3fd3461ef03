// optim.test.ts: the fused optimizer steps on cuda (native/cuda/adamw.cu) against the CPU's
// (native/cpu/optim.cpp): the same float64 arithmetic on the same parameters, gradients and state, so
// parameters and moments agree to float32 rounding after many steps. The native steps directly (state
// made on cuda here), then the AdamW and SGD classes on cuda parameters. Skipped without a GPU.
import { describe, expect, it } from 'vitest';

import { AdamW, hasCuda, Rng, SGD, tidy, zeros, type Tensor } from '../../src/index.js';
import { native } from '../../src/native/addon.js';
import { expectNear, host } from './helpers.js';

type Device = 'cpu' | 'cuda';

/** Parameters and their state on device, from the same host values. */
function setup(device: Device, dtype: 'float32' | 'float64'): { p: Tensor; m: Tensor; v: Tensor } {
  const rng = new Rng(100);
  return {
    p: rng.randn([37, 129], { dtype }).to(device),
    m: zeros([37, 129], { dtype, device }),
    v: zeros([37, 129], { dtype, device }),
  };
}

describe.skipIf(!hasCuda())('optimizer steps on cuda', () => {
  it('adamw: 50 native steps with changing gradients agree with the CPU (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      tidy(() => {
        const cpu = setup('cpu', dtype), gpu = setup('cuda', dtype);
        for (let step = 1; step <= 50; step++) {
          const g = new Rng(200 + step).randn([37, 129], { dtype });
          const gg = g.to('cuda');
          native().adamwStep(cpu.p.handle, g.handle, cpu.m.handle, cpu.v.handle, 1e-2, 0.9, 0.999, 1e-8, 0.05, step);
          native().adamwStep(gpu.p.handle, gg.handle, gpu.m.handle, gpu.v.handle, 1e-2, 0.9, 0.999, 1e-8, 0.05, step);
        }
        const tol = dtype === 'float64' ? 1e-12 : 1e-6;
        expectNear(host(gpu.p), host(cpu.p), tol, `${dtype} parameters`);
        expectNear(host(gpu.m), host(cpu.m), tol, `${dtype} first moments`);
        expectNear(host(gpu.v), host(cpu.v), tol, `${dtype} second moments`);
      });
    }
  });

  it('adamw takes a bfloat16 gradient for a float32 parameter, as the CPU does', () => {
    tidy(() => {
      const cpu = setup('cpu', 'float32'), gpu = setup('cuda', 'float32');
      const g = new Rng(300).randn([37, 129]).to('bfloat16');
      native().adamwStep(cpu.p.handle, g.handle, cpu.m.handle, cpu.v.handle, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
      native().adamwStep(gpu.p.handle, g.to('cuda').handle, gpu.m.handle, gpu.v.handle, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
      expectNear(host(gpu.p), host(cpu.p), 1e-6, 'parameters');
    });
  });

  it('sgd: momentum, dampening, Nesterov and weight decay agree with the CPU', () => {
    for (const [momentum, dampening, nesterov] of [[0, 0, false], [0.9, 0.1, false], [0.9, 0, true]] as const) {
      tidy(() => {
        const cpu = setup('cpu', 'float32'), gpu = setup('cuda', 'float32');
        for (let step = 1; step <= 20; step++) {
          const g = new Rng(400 + step).randn([37, 129]);
          native().sgdStep(cpu.p.handle, g.handle, momentum ? cpu.m.handle : null, 0.05, momentum, dampening, 1e-3, nesterov, step === 1);
          native().sgdStep(gpu.p.handle, g.to('cuda').handle, momentum ? gpu.m.handle : null, 0.05, momentum, dampening, 1e-3, nesterov, step === 1);
        }
        expectNear(host(gpu.p), host(cpu.p), 1e-6, `sgd momentum ${momentum} dampening ${dampening} nesterov ${nesterov}`);
      });
    }
  });

  it('state on another device than the parameter is a DEVICE error, not a crash', () => {
    tidy(() => {
      const gpu = setup('cuda', 'float32');
      const cpuState = zeros([37, 129]);
      const g = zeros([37, 129], { device: 'cuda' });
      expect(() => native().adamwStep(gpu.p.handle, g.handle, cpuState.handle, gpu.v.handle, 1e-3, 0.9, 0.999, 1e-8, 0, 1)).toThrow(
        /on one device but received cuda and cpu/,
      );
    });
  });

  it('the AdamW and SGD classes step cuda parameters as they step cpu ones', () => {
    for (const make of [(ps: Tensor[]) => new AdamW(ps, { lr: 1e-2, weightDecay: 0.1 }), (ps: Tensor[]) => new SGD(ps, { lr: 1e-2, momentum: 0.9 })]) {
      tidy(() => {
        const start = new Rng(500).randn([8, 33]);
        const result = (device: Device) => {
          const p = start.clone().to(device).detach().requiresGrad_();  // a copy on either device: the steps run in place
          const opt = make([p]);
          for (let i = 0; i < 10; i++) {
            opt.zeroGrad();
            p.mul(p).sum().backward();
            opt.step();
          }
          return host(p);
        };
        expectNear(result('cuda'), result('cpu'), 1e-6, 'parameters after 10 steps');
      });
    }
  });
});
