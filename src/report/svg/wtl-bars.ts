// wtl-bars.ts: win / tie / loss bars (the paper's Fig. 7): one horizontal stacked bar per row
// (a comparison, or a dimension of one), shares of the prompts, with the counts.
import { esc, n, OUTCOME_COLORS, svgDoc } from './svg-doc.js';

export interface WtlRow {
  label: string;
  win: number;
  tie: number;
  loss: number;
  /** Prompts counted. */
  total: number;
  /** A title line over the rows that follow (e.g. "tree vs base"), drawn before this row. */
  heading?: string;
}

export function winTieLossBars(rows: readonly WtlRow[], title: string): string {
  const longest = Math.max(...rows.map((r) => r.label.length));
  const left = Math.min(220, Math.max(110, 16 + 7.2 * longest)), barW = 420, rowH = 26, top = 46, headH = 30;
  const headings = rows.filter((r) => r.heading).length;
  const H = top + rows.length * rowH + headings * headH + 16;
  const W = left + barW + 80;
  const parts: string[] = [];
  // legend
  (['win', 'tie', 'loss'] as const).forEach((o, k) => {
    parts.push(`<rect x="${left + k * 90}" y="14" width="14" height="14" rx="3" fill="${OUTCOME_COLORS[o]}"/>`);
    parts.push(`<text x="${left + k * 90 + 20}" y="26" font-size="12" fill="#2b2f36">${o}</text>`);
  });
  let y = top;
  rows.forEach((r) => {
    if (r.heading) {
      parts.push(`<text x="12" y="${n(y + 20)}" font-size="13" font-weight="700" fill="#2b2f36">${esc(r.heading)}</text>`);
      y += headH;
    }
    const t = r.win + r.tie + r.loss || 1;
    parts.push(`<text x="${left - 10}" y="${n(y + 17)}" font-size="12" text-anchor="end" fill="#2b2f36">${esc(r.label)}</text>`);
    let x = left;
    for (const o of ['win', 'tie', 'loss'] as const) {
      const w = (barW * r[o]) / t;
      if (w > 0) {
        parts.push(`<rect class="wtl-${o}" x="${n(x)}" y="${y + 3}" width="${n(w)}" height="${rowH - 6}" fill="${OUTCOME_COLORS[o]}"><title>${esc(`${r.label}: ${o} ${r[o]} of ${r.total} (${((100 * r[o]) / t).toFixed(1)}%)`)}</title></rect>`);
        if (w > 34) parts.push(`<text x="${n(x + w / 2)}" y="${n(y + 17)}" font-size="11" text-anchor="middle" fill="${o === 'tie' ? '#2b2f36' : '#ffffff'}">${((100 * r[o]) / t).toFixed(0)}%</text>`);
      }
      x += w;
    }
    parts.push(`<text x="${left + barW + 8}" y="${n(y + 17)}" font-size="11" fill="#6b7079">n = ${r.total}</text>`);
    y += rowH;
  });
  return svgDoc(W, H, parts.join(''), title);
}
