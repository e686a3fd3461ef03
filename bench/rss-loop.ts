// rss-loop.ts: the process's RSS over a synchronous loop, to show what a training loop that never awaits
// keeps per call while tensor memory stays flat. With an object and a native finalizer per handle the
// step case kept about 14.5 KB a step; with the handle table (native/binding/handles.cpp) disposed
// handles leave nothing (bench/RESULTS.md, "Memory of a synchronous loop").
//   npx tsx bench/rss-loop.ts [--case step|add-dispose|add-tidy|add-nodispose|raw-add|shape] [--calls 6000] [--yield-every 0]
// step: a tiny linear+GELU+linear+MSE forward, backward and AdamW step inside tidy (test/engine/memory.test.ts's);
// the others one op per call; add-nodispose leaves its tensors to the FinalizationRegistry, which runs
// only when the loop yields. --yield-every N awaits a setImmediate every N calls (0: never).
import { parseArgs } from 'node:util';

import { AdamW, F, memoryStats, noGrad, Rng, tidy, zeros } from '../src/index.js';
import { native } from '../src/native/addon.js';

const { values } = parseArgs({ options: { case: { type: 'string', default: 'step' }, calls: { type: 'string', default: '6000' }, 'yield-every': { type: 'string', default: '0' } } });
const calls = Number(values.calls), yieldEvery = Number(values['yield-every']);
if (!(calls >= 1)) throw new Error(`Expected a positive --calls but received ${values.calls}`);

const rng = new Rng(1);
const params = [rng.randn([64, 32]).mul(0.1).requiresGrad_(), zeros([64], { requiresGrad: true }), rng.randn([1, 64]).mul(0.1).requiresGrad_(), zeros([1], { requiresGrad: true })];
const opt = new AdamW(params, { lr: 1e-3 });
const x = rng.randn([32, 32]), y = rng.randn([32, 1]);
const n = native();
const cases: Record<string, () => void> = {
  step: () => tidy(() => {
    opt.zeroGrad();
    const h = F.linear(x, params[0], params[1]).gelu();
    F.mseLoss(F.linear(h, params[2], params[3]), y).backward();
    opt.step();
  }),
  'add-dispose': () => noGrad(() => x.add(x)).dispose(),
  'add-tidy': () => tidy(() => void noGrad(() => x.add(x))),
  'add-nodispose': () => void noGrad(() => x.add(x)),
  'raw-add': () => n.dispose(n.add(x.handle, x.handle)),
  shape: () => void n.shape(x.handle),
};
const f = cases[values.case!];
if (!f) throw new Error(`Expected one of ${Object.keys(cases).join(', ')} for --case but received ${values.case}`);

for (let i = 0; i < Math.min(2000, calls); i++) f(); // warm-up: optimizer state, allocator, JIT
const rss0 = process.memoryUsage().rss, live0 = memoryStats().liveBytes;
for (let i = 1; i <= calls; i++) {
  f();
  if (yieldEvery > 0 && i % yieldEvery === 0) await new Promise((r) => setImmediate(r));
  if (i % Math.max(1, Math.floor(calls / 3)) === 0 || i === calls) {
    const m = process.memoryUsage();
    console.log(`${values.case} after ${i} calls: RSS +${((m.rss - rss0) / 2 ** 20).toFixed(1)} MB (${((m.rss - rss0) / i).toFixed(0)} B per call), V8 heap ${(m.heapTotal / 2 ** 20).toFixed(0)} MB, live tensor bytes ${memoryStats().liveBytes - live0 >= 0 ? '+' : ''}${memoryStats().liveBytes - live0}`);
  }
}
