// silu.ts: a float32 activation's forward + backward on 2^20 values (SiLU, or GELU with `gelu`),
// process CPU time and wall time per repetition (20 after 3 warm-ups); set TREEREWARD_ADDON to
// compare builds (bench/RESULTS.md).
//   npx tsx bench/silu.ts [silu|gelu]
import { Rng, tidy } from '../src/index.js';

const op = process.argv[2] ?? 'silu';
if (op !== 'silu' && op !== 'gelu') throw new Error(`Expected silu or gelu but received ${op}`);

const x = new Rng(0).randn([1 << 20]).requiresGrad_();
const g = new Rng(1).randn([1 << 20]);
const run = () => tidy(() => (op === 'gelu' ? x.gelu() : x.silu()).backward(g));
for (let i = 0; i < 3; i++) run();
const cpu0 = process.cpuUsage(), wall0 = performance.now();
for (let i = 0; i < 20; i++) run();
const cpu = process.cpuUsage(cpu0);
console.log(`${op} fwd+bwd on 2^20 float32: ${((cpu.user + cpu.system) / 1000 / 20).toFixed(2)} ms CPU, ${((performance.now() - wall0) / 20).toFixed(2)} ms wall per repetition`);
