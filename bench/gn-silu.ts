// gn-silu.ts: silu(groupNorm(x)) against the fused groupNormSilu(x) at the UNet's and VAE's bench shapes
// (32 groups), forward+backward, process CPU ms per call (all threads), the two interleaved in one process.
//   npx tsx bench/gn-silu.ts [threads=2] [reps=30]
import { F, ones, Rng, setNumThreads } from '../src/index.js';

const threads = Number(process.argv[2] ?? 2), reps = Number(process.argv[3] ?? 30);
setNumThreads(threads);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const med = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
const shapes: number[][] = [[4, 64, 16, 16], [4, 128, 8, 8], [4, 64, 64, 64], [4, 128, 32, 32]];
for (const shape of shapes) {
  const rng = new Rng(1);
  const x = rng.randn(shape, { requiresGrad: true }), w = rng.randn([shape[1]], { requiresGrad: true }), b = rng.randn([shape[1]], { requiresGrad: true });
  const g = ones(shape);
  const run = (fused: boolean) => {
    for (const t of [x, w, b]) t.grad = null;
    const c = cpu();
    const y = fused ? F.groupNormSilu(x, 32, w, b, 1e-6) : F.groupNorm(x, 32, w, b, 1e-6).silu();
    y.backward(g);
    const t = cpu() - c;
    y.dispose();
    return t;
  };
  for (let i = 0; i < 3; i++) run(false), run(true);
  const a: number[] = [], f: number[] = [];
  for (let i = 0; i < reps; i++) a.push(run(false)), f.push(run(true));
  console.log(JSON.stringify(shape), 'separate min/median', Math.min(...a).toFixed(2), med(a).toFixed(2), 'fused', Math.min(...f).toFixed(2), med(f).toFixed(2), 'ratio of medians', (med(a) / med(f)).toFixed(2));
}
