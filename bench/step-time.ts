// step-time.ts: ms per forward+backward of the bench UNet (batch 4, 16x16 latent) or the bench BLIP
// backbone (batch 8, 64 px, 32 tokens), each step inside tidy as a training loop runs it, with the
// process's CPU and kernel-mode time per step. For A/B runs of two builds of the addon
// (TREEREWARD_ADDON=<build>/Release/treereward.node) or of a setting (TREEREWARD_CPU_CACHE=0,
// GOMP_SPINCOUNT=...): run them interleaved and compare the lines. Ours only: bench/models.ts is the
// comparison with PyTorch.
//   npx tsx bench/step-time.ts [--model unet|blip] [--steps 20] [--autocast] [--json]
// --autocast runs each step under autocast('bfloat16') (mixed precision: the products in bf16).
import { parseArgs } from 'node:util';

import { autocast, BlipBackbone, manualSeed, randn, Rng, tensor, tidy, UNet } from '../src/index.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'unet' }, steps: { type: 'string', default: '20' }, json: { type: 'boolean', default: false }, autocast: { type: 'boolean', default: false } } });
const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 1) throw new Error(`Expected a positive integer for --steps but received ${values.steps}`);

let step: () => void;
if (values.model === 'unet') {
  manualSeed(0);
  const m = UNet.fromConfig('bench');
  const x = randn([4, 4, 16, 16]), t = tensor([500, 500, 500, 500]), c = randn([4, 16, 128]);
  step = () => tidy(() => m.forward(x, t, c).sum().backward());
} else if (values.model === 'blip') {
  const blip = new BlipBackbone('bench');
  const img = new Rng(0).randn([8, 3, 64, 64]);
  const ids = tensor(Array.from({ length: 8 * 32 }, (_, i) => (i * 7) % 1000), [8, 32], { dtype: 'int32' });
  const mask = tensor(Array.from({ length: 8 * 32 }, () => 1), [8, 32], { dtype: 'int32' });
  step = () => tidy(() => blip.forward(img, ids, mask).sum().backward());
} else {
  throw new Error(`Expected unet or blip for --model but received ${values.model}`);
}

if (values.autocast) {
  const inner = step;
  step = () => autocast('bfloat16', inner);
}
for (let i = 0; i < 2; i++) step(); // warm-up: primitive caches, allocator
const c0 = process.cpuUsage(), t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - t0) / steps, cu = process.cpuUsage(c0);
const result = { model: values.model, autocast: values.autocast ? 'bfloat16' : 'off', steps, msPerStep: wall, cpuMsPerStep: (cu.user + cu.system) / 1e3 / steps, sysMsPerStep: cu.system / 1e3 / steps, addon: process.env.TREEREWARD_ADDON ?? 'build' };
if (values.json) console.log(JSON.stringify(result));
else console.log(`${result.model}${values.autocast ? ' (autocast bf16)' : ''}: ${wall.toFixed(1)} ms per forward+backward (cpu ${result.cpuMsPerStep.toFixed(1)}, kernel ${result.sysMsPerStep.toFixed(1)}) over ${steps} steps, addon ${result.addon}`);
