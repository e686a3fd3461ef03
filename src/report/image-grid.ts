// image-grid.ts: the before / after grids (the paper's Fig. 5): for each dimension, the same
// prompts and seed drawn by each generator (one row per generator group, its first training seed),
// as HTML with the images inline (base64 PNG) and as an SVG with the same images for the PNG figure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DIMENSIONS } from '../api/interfaces.js';
import type { GridImage } from '../eval/evaluation.js';
import type { GeneratorInfo } from '../eval/records.js';
import { esc, svgDoc } from './svg/svg-doc.js';

export interface GridRow {
  label: string;
  generator: string;
  /** data: URIs by column (null where the image is missing). */
  images: (string | null)[];
}

export interface DimensionGrid {
  dimension: string;
  prompts: string[];
  rows: GridRow[];
}

/** The grids of an evaluation, dimension by dimension, images read from the run directory. */
export function buildGrids(runDir: string, generators: readonly GeneratorInfo[], images: readonly GridImage[], columns: number): DimensionGrid[] {
  const shown: GeneratorInfo[] = [];
  for (const g of generators) if (!shown.some((s) => s.group === g.group)) shown.push(generators.filter((x) => x.group === g.group).sort((a, b) => a.run - b.run)[0]!);
  const order = [...DIMENSIONS, 'none'] as string[];
  const dims = [...new Set(images.map((i) => i.dimension ?? 'none'))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return dims.map((dimension) => {
    const of = images.filter((i) => (i.dimension ?? 'none') === dimension);
    const prompts = Array.from({ length: columns }, (_, c) => of.find((i) => i.column === c)?.prompt ?? '');
    const width = prompts.filter((p) => p !== '').length;
    const rows = shown.map((g) => ({
      label: g.label.replace(/\/seed-\d+$/, ''),
      generator: g.name,
      images: Array.from({ length: width }, (_, c) => {
        const img = of.find((i) => i.generator === g.name && i.column === c);
        return img ? `data:image/png;base64,${readFileSync(join(runDir, img.path)).toString('base64')}` : null;
      }),
    }));
    return { dimension, prompts: prompts.slice(0, width), rows };
  });
}

export function gridHtml(grid: DimensionGrid): string {
  const head = grid.prompts.map((_, c) => `<th scope="col">prompt ${c + 1}</th>`).join('');
  const body = grid.rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th>${r.images.map((src, c) => `<td>${src ? `<img class="sample" src="${src}" alt="${esc(`${r.label}: ${grid.prompts[c]}`)}" title="${esc(grid.prompts[c] ?? '')}">` : '<span class="missing-image">no image</span>'}</td>`).join('')}</tr>`).join('');
  const captions = grid.prompts.map((p, c) => `<li><span class="n">${c + 1}</span> ${esc(p)}</li>`).join('');
  return `<figure class="grid" data-dimension="${esc(grid.dimension)}"><figcaption><h3>${esc(grid.dimension)}</h3></figcaption><table class="image-grid"><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table><ol class="prompts">${captions}</ol></figure>`;
}

/** The same grid as an SVG figure (images 2x, nearest-neighbour; prompts listed below). */
export function gridSvg(grid: DimensionGrid, imageSize = 128): string {
  const left = 170, top = 40, gap = 8;
  const cols = grid.prompts.length;
  const W = Math.max(left + cols * (imageSize + gap) + 10, 640);
  const promptTop = top + grid.rows.length * (imageSize + gap) + 14;
  const H = promptTop + cols * 17 + 10;
  const parts: string[] = [`<text x="12" y="24" font-size="15" font-weight="700" fill="#2b2f36">${esc(grid.dimension)}</text>`];
  grid.prompts.forEach((_, c) => parts.push(`<text x="${left + c * (imageSize + gap) + imageSize / 2}" y="${top - 8}" font-size="11" text-anchor="middle" fill="#6b7079">prompt ${c + 1}</text>`));
  grid.rows.forEach((r, k) => {
    const y = top + k * (imageSize + gap);
    parts.push(`<text x="${left - 10}" y="${y + imageSize / 2 + 4}" font-size="12" text-anchor="end" fill="#2b2f36">${esc(r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label)}</text>`);
    r.images.forEach((src, c) => {
      if (src) parts.push(`<image x="${left + c * (imageSize + gap)}" y="${y}" width="${imageSize}" height="${imageSize}" image-rendering="pixelated" style="image-rendering:pixelated" href="${src}" xlink:href="${src}"/>`);
    });
  });
  grid.prompts.forEach((p, c) => parts.push(`<text x="12" y="${promptTop + c * 17}" font-size="11" fill="#2b2f36">${c + 1}. ${esc(p.length > 110 ? `${p.slice(0, 109)}…` : p)}</text>`));
  return svgDoc(W, H, parts.join(''), `Before and after, ${grid.dimension}`);
}
