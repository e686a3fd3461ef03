// page.ts: the report page: one self-contained HTML file (styles inline, figures as inline SVG and
// images as base64 PNG; nothing is fetched), readable on a laptop screen and printable.
import { esc } from './svg/svg-doc.js';

const CSS = `
:root { --ink: #22262d; --muted: #6b7079; --line: #e3e6ea; --bg: #f6f7f9; --accent: #1f8a70; --warn-bg: #fff6e0; --warn-line: #e8c66a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
header.top { background: #1d2a33; color: #fff; padding: 28px 40px 22px; }
header.top h1 { margin: 0 0 4px; font-size: 24px; font-weight: 700; letter-spacing: .2px; }
header.top p { margin: 0; color: #c7d0d6; font-size: 14px; }
nav.toc { background: #fff; border-bottom: 1px solid var(--line); padding: 10px 40px; position: sticky; top: 0; z-index: 2; font-size: 13px; }
nav.toc a { color: var(--ink); text-decoration: none; margin-right: 18px; white-space: nowrap; }
nav.toc a:hover { color: var(--accent); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 40px 60px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px 26px 22px; margin: 0 0 22px; }
section h2 { margin: 0 0 4px; font-size: 19px; }
section h2 .fig { color: var(--muted); font-weight: 400; font-size: 14px; margin-left: 8px; }
p.lede { margin: 0 0 14px; color: var(--muted); font-size: 14px; max-width: 900px; }
.figure svg { max-width: 100%; height: auto; display: block; }
.figure { margin: 6px 0 12px; }
.row { display: flex; flex-wrap: wrap; gap: 22px; align-items: flex-start; }
.callout { border: 1px solid var(--warn-line); background: var(--warn-bg); border-radius: 8px; padding: 12px 16px; margin: 0 0 16px; font-size: 14px; }
.callout strong { display: block; margin-bottom: 2px; }
.missing { border: 1px dashed #c4c8ce; border-radius: 8px; padding: 16px 18px; color: var(--muted); background: #fafbfc; font-size: 14px; }
.missing strong { color: var(--ink); }
.table-wrap { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; min-width: 60%; }
table.data caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12px; padding-top: 6px; max-width: 900px; }
table.data th, table.data td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.data thead th { border-bottom: 2px solid #c9cdd3; font-weight: 600; white-space: nowrap; }
table.data tbody th { font-weight: 600; white-space: nowrap; }
.num { text-align: right !important; font-variant-numeric: tabular-nums; white-space: nowrap; }
.spread { color: var(--muted); font-size: 12px; }
td.pos { color: #17694f; } td.neg { color: #b4452a; } td.na { color: #a0a5ad; }
td.what { color: var(--ink); font-size: 13px; max-width: 640px; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 9px; font-size: 12px; font-weight: 600; }
.badge.done { background: #dff3ec; color: #17694f; } .badge.waiting { background: #fdf0d2; color: #8a6412; }
.badge.pending, .badge.stopped { background: #eceef1; color: #5b6068; } .badge.failed { background: #fbe3dc; color: #a13d24; }
.badge.running { background: #e3ecfb; color: #2c55a8; }
figure.grid { margin: 0 0 22px; }
figure.grid h3 { margin: 0 0 6px; font-size: 15px; text-transform: capitalize; }
table.image-grid { border-collapse: separate; border-spacing: 6px; }
table.image-grid th { font-size: 12px; font-weight: 600; color: var(--muted); text-align: right; padding-right: 6px; }
table.image-grid thead th { text-align: center; font-weight: 400; }
table.image-grid tbody th { color: var(--ink); max-width: 170px; }
img.sample { width: 128px; height: 128px; image-rendering: pixelated; display: block; border-radius: 4px; border: 1px solid var(--line); }
ol.prompts { margin: 4px 0 0; padding-left: 0; list-style: none; font-size: 12px; color: var(--muted); columns: 2; column-gap: 28px; }
ol.prompts li { margin-bottom: 2px; break-inside: avoid; }
ol.prompts .n { display: inline-block; min-width: 16px; color: var(--ink); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; font-size: 13px; margin: 0 0 14px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 10px 0 30px; }
@media (max-width: 1100px) { main { padding: 16px 14px 40px; } section { padding: 16px 16px 18px; } table.data th, table.data td { padding: 5px 7px; } header.top, nav.toc { padding-left: 16px; padding-right: 16px; } }
@media print { nav.toc { display: none; } body { background: #fff; } section { break-inside: avoid; } }
`;

export interface PageSection {
  id: string;
  title: string;
  /** "Fig. 1", "Table 3": where the paper has it. */
  paper?: string;
  lede?: string;
  /** HTML of the section's body. */
  body: string;
}

export function page(title: string, subtitle: string, sections: readonly PageSection[], footer: string): string {
  const toc = sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join('');
  const body = sections.map((s) => `<section id="${esc(s.id)}"><h2>${esc(s.title)}${s.paper ? `<span class="fig">${esc(s.paper)}</span>` : ''}</h2>${s.lede ? `<p class="lede">${s.lede}</p>` : ''}${s.body}</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header class="top"><h1>${esc(title)}</h1><p>${subtitle}</p></header>
<nav class="toc">${toc}</nav>
<main>
${body}
</main><footer>${footer}</footer></body></html>
`;
}

/** The notice shown in place of a figure whose inputs do not exist. */
export function missingNotice(what: string, reason: string): string {
  return `<div class="missing" data-missing="true"><strong>${esc(what)}: not available.</strong> ${esc(reason)}</div>`;
}
