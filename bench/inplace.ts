// inplace.ts: in-place add (gradient accumulation) and scale on a bf16 or f16 tensor, the native calls
// alone: ms per call, median [range] of --reps. For A/B runs of two builds
// (TREEREWARD_ADDON=<build>/Release/treereward.node).
//   npx tsx bench/inplace.ts [--dtype bf16|f16] [--numel 4194304] [--reps 21]
import { parseArgs } from 'node:util';

import { Rng } from '../src/index.js';
import { native } from '../src/native/addon.js';

const { values } = parseArgs({ options: { dtype: { type: 'string', default: 'bf16' }, numel: { type: 'string', default: String(1 << 22) }, reps: { type: 'string', default: '21' } } });
const dtype = ({ bf16: 'bfloat16', f16: 'float16' } as const)[values.dtype as 'bf16' | 'f16'];
if (!dtype) throw new Error(`Expected bf16 or f16 for --dtype but received ${values.dtype}`);
const numel = Number(values.numel), reps = Number(values.reps);
const rng = new Rng(1);
const d = rng.randn([numel]).to(dtype), s = rng.randn([numel]).to(dtype);
const n = native();
const cases: Record<string, () => void> = {
  addInplace: () => n.addInplace(d.handle, s.handle, 1e-3),
  mulScalarInplace: () => n.mulScalarInplace(d.handle, 1.0001),
};
for (const [name, f] of Object.entries(cases)) {
  for (let i = 0; i < 5; i++) f();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`${dtype} ${name}, ${numel} elements: ${ms[ms.length >> 1].toFixed(2)} ms [${ms[0].toFixed(2)}-${ms[ms.length - 1].toFixed(2)}]`);
}
