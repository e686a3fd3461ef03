// calibrate-detail.ts: where the detail judge's edge constants come from. Renders sampled scenes at
// known blurs (no micro-texture) and prints the median 25-75% edge rise width the judge measures,
// and the fit width = hypot(W0, c * blur * scale) (EDGE_WIDTH0 and WIDTH_PER_SIGMA in judges/detail.ts).
//   npx tsx src/world/scripts/calibrate-detail.ts [--size 64]
import { sampleScene } from '../scene.js';
import { resolveScene } from '../render/render-spec.js';
import { renderSpec } from '../render/render-scene.js';
import { readDetail } from '../judges/detail.js';

const i = process.argv.indexOf('--size');
const size = i >= 0 ? Number(process.argv[i + 1]) : 64;
const scale = size / 64;
const rows: [number, number][] = [];
for (const blur of [0, 0.4, 0.6, 0.8, 1, 1.2, 1.5]) {
  const widths: number[] = [];
  for (let k = 0; k < 80; k++) {
    const spec = resolveScene(sampleScene(777 + k));
    spec.blur = blur;
    spec.texture = 0;
    const w = readDetail(renderSpec(spec, size)).edgeWidth;
    if (Number.isFinite(w)) widths.push(w);
  }
  widths.sort((a, b) => a - b);
  const median = widths[Math.floor(widths.length / 2)]!;
  rows.push([blur, median]);
  console.log(`blur ${blur.toFixed(1)} px (at 64): median edge width ${median.toFixed(3)} px over ${widths.length} images`);
}
const w0 = rows[0]![1];
const slopes = rows.slice(1).map(([b, w]) => Math.sqrt(Math.max(0, w * w - w0 * w0)) / (b * scale));
console.log(`W0 = ${w0.toFixed(3)} px, width per sigma = ${(slopes.reduce((a, b) => a + b, 0) / slopes.length).toFixed(3)} (per blur: ${slopes.map((s) => s.toFixed(2)).join(' ')})`);
