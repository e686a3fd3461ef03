// svg-doc.ts: what the report's charts share: XML escaping, the document wrapper (one font stack
// that both Chromium and librsvg, which renders the PNGs, have), number formatting and the colors
// of generators and outcomes.

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

export function esc(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A standalone SVG document (white background, so the PNG is readable on any viewer). */
export function svgDoc(width: number, height: number, body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="${FONT}"><title>${esc(title)}</title><rect width="${width}" height="${height}" fill="#ffffff"/>${body}</svg>`;
}

/** Rounds for SVG coordinates. */
export function n(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** Colors of the generator groups and reward variants (others cycle through the rest). */
const NAMED: Record<string, string> = {
  base: '#8a8f98',
  tuned: '#1f8a70',
  tree: '#1f8a70',
  'data-scale': '#d1603d',
  'single-small': '#e0a030',
  decouple: '#5b6ee1',
};
const CYCLE = ['#1f8a70', '#d1603d', '#5b6ee1', '#e0a030', '#9c4f96', '#3a8fb7'];

export function colorOf(name: string, index = 0): string {
  return NAMED[name] ?? CYCLE[index % CYCLE.length]!;
}

export const OUTCOME_COLORS = { win: '#1f8a70', tie: '#c4c8ce', loss: '#d1603d' } as const;
