// line-chart.ts: training curves (reward and loss per step from the JSONL logs): the raw values
// faint and a moving average drawn over them, one color per series, axes with round ticks.
import { colorOf, esc, n, svgDoc } from './svg-doc.js';

export interface LineSeries {
  label: string;
  key: string;
  points: [number, number][];
}

/** Trailing moving average over `window` points. */
export function movingAverage(points: readonly [number, number][], window: number): [number, number][] {
  const out: [number, number][] = [];
  let sum = 0;
  points.forEach(([x, y], i) => {
    sum += y;
    if (i >= window) sum -= points[i - window]![1];
    out.push([x, sum / Math.min(i + 1, window)]);
  });
  return out;
}

function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** Tick labels with as many decimals as the step between ticks needs. */
function formatter(values: number[]): (v: number) => string {
  const step = values.length > 1 ? Math.abs(values[1]! - values[0]!) : 1;
  const decimals = Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0)));
  return (v) => v.toFixed(decimals);
}

export function lineChart(series: readonly LineSeries[], options: { title: string; xLabel: string; yLabel: string; smooth?: number }): string {
  const W = 560, H = 320, L = 62, Rm = 150, T = 30, B = 46;
  const pw = W - L - Rm, ph = H - T - B;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const X = (x: number) => L + (pw * (x - x0)) / (x1 - x0 || 1);
  const Y = (y: number) => T + ph - (ph * (y - y0)) / (y1 - y0);
  const parts: string[] = [];
  const yTicks = ticks(y0, y1), xTicks = ticks(x0, x1);
  const fy = formatter(yTicks), fx = formatter(xTicks);
  for (const t of yTicks) {
    parts.push(`<line x1="${L}" x2="${L + pw}" y1="${n(Y(t))}" y2="${n(Y(t))}" stroke="#eceef1"/>`);
    parts.push(`<text x="${L - 6}" y="${n(Y(t) + 4)}" font-size="10" text-anchor="end" fill="#6b7079">${fy(t)}</text>`);
  }
  for (const t of xTicks) parts.push(`<text x="${n(X(t))}" y="${T + ph + 16}" font-size="10" text-anchor="middle" fill="#6b7079">${fx(t)}</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#c4c8ce"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" font-size="12" text-anchor="middle" fill="#2b2f36">${esc(options.xLabel)}</text>`);
  parts.push(`<text x="14" y="${T + ph / 2}" font-size="12" text-anchor="middle" fill="#2b2f36" transform="rotate(-90 14 ${T + ph / 2})">${esc(options.yLabel)}</text>`);
  parts.push(`<text x="${L}" y="18" font-size="13" font-weight="600" fill="#2b2f36">${esc(options.title)}</text>`);
  const path = (pts: readonly [number, number][]) => pts.filter((p) => Number.isFinite(p[1])).map((p, i) => `${i ? 'L' : 'M'}${n(X(p[0]))},${n(Y(p[1]))}`).join('');
  series.forEach((s, k) => {
    const c = colorOf(s.key, k);
    const window = options.smooth ?? Math.max(1, Math.round(s.points.length / 15));
    if (window > 1) parts.push(`<path d="${path(s.points)}" fill="none" stroke="${c}" stroke-opacity="0.25" stroke-width="1"/>`);
    parts.push(`<path class="series" data-series="${esc(s.label)}" d="${path(window > 1 ? movingAverage(s.points, window) : s.points)}" fill="none" stroke="${c}" stroke-width="2"/>`);
    const y = T + 8 + k * 20;
    parts.push(`<rect x="${L + pw + 14}" y="${y}" width="14" height="3" fill="${c}"/>`);
    parts.push(`<text x="${L + pw + 34}" y="${y + 5}" font-size="11" fill="#2b2f36">${esc(s.label.length > 17 ? `${s.label.slice(0, 16)}…` : s.label)}</text>`);
  });
  return svgDoc(W, H, parts.join(''), options.title);
}
