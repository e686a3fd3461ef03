// dispatch.ts: the fixed cost of one op call from TypeScript (validation, the native call, the handle,
// its release), on a 4-element tensor so that the kernel is nothing: microseconds per call, median of
// --reps blocks of --calls. For A/B runs of two builds (TREEREWARD_ADDON=<build>/Release/treereward.node).
//   npx tsx bench/dispatch.ts [--calls 50000] [--reps 5]
import { parseArgs } from 'node:util';

import { noGrad, tensor, tidy } from '../src/index.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '50000' }, reps: { type: 'string', default: '5' } } });
const calls = Number(values.calls), reps = Number(values.reps);
const x = tensor([1, 2, 3, 4]);
const cases: Record<string, () => void> = {
  'add, disposed': () => noGrad(() => x.add(x)).dispose(),
  'add in tidy': () => tidy(() => void noGrad(() => x.add(x))),
  'add with grad in tidy': () => tidy(() => void x.add(x)),
};
for (const [name, f] of Object.entries(cases)) {
  for (let i = 0; i < 5000; i++) f();
  const us: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) f();
    us.push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
  }
  us.sort((a, b) => a - b);
  console.log(`${name}: ${us[us.length >> 1].toFixed(2)} us per call [${us[0].toFixed(2)}-${us[us.length - 1].toFixed(2)}]`);
}
