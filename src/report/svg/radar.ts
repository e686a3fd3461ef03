// radar.ts: the radar chart over the six dimensions (the paper's Fig. 1): one polygon per
// generator, each axis a judge's mean score on its dimension's prompts. The radial range is fitted
// to the data (rings are labelled with their values, so a zoomed range is visible as such).
import { colorOf, esc, n, svgDoc } from './svg-doc.js';

export interface RadarSeries {
  label: string;
  /** Key for the color (group or variant name). */
  key: string;
  values: number[];
  /** Spread per axis (drawn as a band), optional. */
  spread?: (number | null)[];
}

export function radarChart(axes: readonly string[], series: readonly RadarSeries[], title: string): string {
  const W = 620, H = 500, cx = 250, cy = 255, R = 190;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  // Rings at round values: the smallest step that covers the data in at most five rings.
  const min = Math.min(...all), max = Math.max(...all);
  const step = [0.02, 0.05, 0.1, 0.2, 0.25].find((s) => Math.ceil((max + 0.01) / s) - Math.floor((min - 0.03) / s) <= 5) ?? 0.25;
  const lo = Math.max(0, Math.floor((min - 0.03) / step) * step);
  const hi = Math.min(1, Math.ceil((max + 0.01) / step) * step);
  const span = Math.max(hi - lo, step);
  const rings = Math.round(span / step);
  const angle = (i: number) => -Math.PI / 2 + (2 * Math.PI * i) / axes.length;
  const at = (i: number, v: number) => {
    const r = (R * (Math.min(Math.max(v, lo), hi) - lo)) / span;
    return [cx + r * Math.cos(angle(i)), cy + r * Math.sin(angle(i))] as const;
  };
  const parts: string[] = [];
  for (let k = 1; k <= rings; k++) {
    const v = lo + (span * k) / rings;
    const pts = axes.map((_, i) => at(i, v).map(n).join(',')).join(' ');
    parts.push(`<polygon points="${pts}" fill="none" stroke="#dfe2e6" stroke-width="1"/>`);
    const [x, y] = at(0, v);
    parts.push(`<text x="${n(x + 4)}" y="${n(y + 4)}" font-size="10" fill="#8a8f98">${v.toFixed(2)}</text>`);
  }
  axes.forEach((a, i) => {
    const [x, y] = at(i, hi);
    parts.push(`<line x1="${cx}" y1="${cy}" x2="${n(x)}" y2="${n(y)}" stroke="#dfe2e6"/>`);
    const lx = cx + (R + 22) * Math.cos(angle(i)), ly = cy + (R + 22) * Math.sin(angle(i));
    const anchor = Math.abs(Math.cos(angle(i))) < 0.2 ? 'middle' : Math.cos(angle(i)) > 0 ? 'start' : 'end';
    parts.push(`<text x="${n(lx)}" y="${n(ly + 4)}" font-size="13" text-anchor="${anchor}" fill="#2b2f36" font-weight="600">${esc(a)}</text>`);
  });
  series.forEach((s, k) => {
    const c = colorOf(s.key, k);
    const pts = s.values.map((v, i) => at(i, v).map(n).join(',')).join(' ');
    parts.push(`<polygon class="series" data-series="${esc(s.label)}" points="${pts}" fill="${c}" fill-opacity="0.12" stroke="${c}" stroke-width="2.2"/>`);
    s.values.forEach((v, i) => {
      const [x, y] = at(i, v);
      parts.push(`<circle cx="${n(x)}" cy="${n(y)}" r="3.2" fill="${c}"><title>${esc(`${s.label}, ${axes[i]}: ${v.toFixed(3)}${s.spread?.[i] != null ? ` ± ${s.spread[i]!.toFixed(3)}` : ''}`)}</title></circle>`);
    });
  });
  // legend
  series.forEach((s, k) => {
    const y = 40 + k * 22;
    parts.push(`<rect x="470" y="${y - 10}" width="14" height="14" rx="3" fill="${colorOf(s.key, k)}"/>`);
    parts.push(`<text x="490" y="${y + 2}" font-size="12" fill="#2b2f36">${esc(s.label.length > 20 ? `${s.label.slice(0, 19)}…` : s.label)}</text>`);
  });
  return svgDoc(W, H, parts.join(''), title);
}
