// attn-loop.ts: one attention case's forward+backward in a loop, ours only, for profiles (perf record)
// and A/B runs of two builds (TREEREWARD_ADDON=<build>/Release/treereward.node): ms per call, median of
// --reps timed calls. bench/ops.ts is the comparison with PyTorch.
//   npx tsx bench/attn-loop.ts [--case attn_vit_b] [--dtype bf16|f32] [--reps 50] [--fwd] [--sum] [--gap ms]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { F, ones, Rng, tidy } from '../src/index.js';

const { values } = parseArgs({
  options: { case: { type: 'string', default: 'attn_vit_b' }, dtype: { type: 'string', default: 'bf16' }, reps: { type: 'string', default: '50' }, fwd: { type: 'boolean', default: false }, sum: { type: 'boolean', default: false }, gap: { type: 'string', default: '0' } },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const shapes = JSON.parse(readFileSync(path.join(here, '../../shared/peers/shapes.json'), 'utf8'));
const all: Record<string, number | string>[] = Object.values(shapes).flatMap((v) => (Array.isArray(v) ? v : []));
const c = all.find((s) => s.name === values.case);
if (!c) throw new Error(`Expected an attention case of ../shared/peers/shapes.json for --case but received ${values.case}`);
const [B, H, Sq, Skv, D] = (['B', 'H', 'Sq', 'Skv', 'D'] as const).map((k) => Number(c[k]));
const dtype = ({ bf16: 'bfloat16', f32: 'float32' } as const)[values.dtype as 'bf16' | 'f32'];
if (!dtype) throw new Error(`Expected bf16 or f32 for --dtype but received ${values.dtype}`);
const rng = new Rng(0);
const q = rng.randn([B, H, Sq, D], { dtype, requiresGrad: !values.fwd });
const k = rng.randn([B, H, Skv, D], { dtype, requiresGrad: !values.fwd });
const v = rng.randn([B, H, Skv, D], { dtype, requiresGrad: !values.fwd });
// the gradient: ones of the output's dtype, as bench/ops.ts gives it; --sum backpropagates sum() instead
// (computed in float32, its gradient reaches a bf16 output through a cast of a broadcast view)
const g = ones([B, H, Sq, D], { dtype });
const run = () => tidy(() => {
  const o = F.attention(q, k, v);
  if (values.fwd) return;
  if (values.sum) o.sum().backward();
  else o.backward(g);
});
for (let i = 0; i < 3; i++) run();
const ms: number[] = [];
const gap = Number(values.gap), idle = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < Number(values.reps); i++) {
  if (gap > 0) Atomics.wait(idle, 0, 0, gap); // idle between calls (as bench/ops.ts is while the peer runs): the threads go to sleep
  const t = performance.now();
  run();
  ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
console.log(`${values.case} ${dtype} ${values.fwd ? 'fwd' : 'fwd+bwd'}: median ${ms[ms.length >> 1].toFixed(3)} ms [${ms[0].toFixed(3)}-${ms[ms.length - 1].toFixed(3)}] over ${ms.length}`);
