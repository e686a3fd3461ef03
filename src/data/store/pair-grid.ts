// pair-grid.ts: a labelled contact sheet of pairs for a person to look at: each pair is a tile with
// its two images side by side (preferred on the left, framed green and marked; a tie framed grey),
// the prompt above, and the dimension, strategy and annotator below. sharp composite + SVG text.
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { StoredPair } from '../types.js';
import type { FeedbackStore } from './feedback-store.js';

export interface GridOptions {
  /** Pixel size each image is drawn at. Defaults to 160. */
  cell?: number;
  /** Pair tiles per row. Defaults to 2. */
  columns?: number;
}

const PAD = 8;
const FRAME = 4;
const HEADER = 40;
const FOOTER = 34;
const FONT = 'DejaVu Sans, sans-serif';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Breaks text into at most `lines` lines of about `width` characters, with an ellipsis if cut. */
function wrap(text: string, width: number, lines: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && (line + ' ' + w).length > width) {
      out.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) out.push(line);
  if (out.length > lines) {
    out.length = lines;
    out[lines - 1] = `${out[lines - 1].slice(0, width - 3)}...`;
  }
  return out;
}

async function cellImage(store: FeedbackStore, pair: StoredPair, side: 'preferred' | 'rejected', cell: number): Promise<Buffer> {
  const path = store.imagePath(pair[side].image);
  if (existsSync(path)) {
    try {
      const kernel = (pair[side].image.width ?? cell) < cell ? 'nearest' : 'lanczos3';
      return await sharp(path).removeAlpha().resize(cell, cell, { fit: 'contain', background: '#ffffff', kernel }).png().toBuffer();
    } catch {
      /* drawn as missing below */
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${cell}" height="${cell}"><rect width="100%" height="100%" fill="#dddddd"/>
    <text x="${cell / 2}" y="${cell / 2}" font-family="${FONT}" font-size="12" text-anchor="middle" fill="#555555">image not found</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Renders the pairs as one PNG and returns its bytes. */
export async function renderPairGrid(store: FeedbackStore, pairs: readonly StoredPair[], options: GridOptions = {}): Promise<Buffer> {
  const cell = options.cell ?? 160;
  const columns = Math.max(1, Math.min(options.columns ?? 2, pairs.length || 1));
  const tileW = 2 * (cell + 2 * FRAME) + 3 * PAD;
  const tileH = HEADER + cell + 2 * FRAME + FOOTER;
  const rows = Math.max(1, Math.ceil(pairs.length / columns));
  const width = columns * tileW;
  const height = rows * tileH;
  const layers: sharp.OverlayOptions[] = [];
  const charsPerLine = Math.floor((tileW - 2 * PAD) / 6.6);
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    const x0 = (i % columns) * tileW;
    const y0 = Math.floor(i / columns) * tileH;
    const samePrompt = pair.preferred.prompt === pair.rejected.prompt;
    const promptText = samePrompt ? pair.preferred.prompt : `${pair.preferred.prompt}  |  ${pair.rejected.prompt}`;
    const header = wrap(promptText, charsPerLine, 2);
    const sideLabel = (side: 'preferred' | 'rejected'): string => (!pair.labelled ? (side === 'preferred' ? 'left' : 'right') : pair.tie ? 'tie' : side === 'preferred' ? 'PREFERRED' : 'rejected');
    const frame = (side: 'preferred' | 'rejected'): string => (!pair.labelled || pair.tie ? '#888888' : side === 'preferred' ? '#1a9e3a' : '#c8c8c8');
    const footer = `#${pair.id} ${pair.dimension} · ${pair.strategy} · ${pair.annotator || 'unlabelled'}`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${tileW}" height="${tileH}">
      <rect x="1" y="1" width="${tileW - 2}" height="${tileH - 2}" fill="#ffffff" stroke="#e0e0e0"/>
      ${header.map((l, k) => `<text x="${PAD}" y="${16 + k * 15}" font-family="${FONT}" font-size="12" fill="#222222">${escapeXml(l)}</text>`).join('')}
      <rect x="${PAD}" y="${HEADER}" width="${cell + 2 * FRAME}" height="${cell + 2 * FRAME}" fill="${frame('preferred')}"/>
      <rect x="${2 * PAD + cell + 2 * FRAME}" y="${HEADER}" width="${cell + 2 * FRAME}" height="${cell + 2 * FRAME}" fill="${frame('rejected')}"/>
      <text x="${PAD + FRAME + cell / 2}" y="${HEADER + cell + 2 * FRAME + 14}" font-family="${FONT}" font-size="12" font-weight="bold" text-anchor="middle" fill="${frame('preferred') === '#1a9e3a' ? '#1a9e3a' : '#555555'}">${sideLabel('preferred')}${pair.labelled && !pair.tie ? ' ✓' : ''}</text>
      <text x="${2 * PAD + cell + 3 * FRAME + cell / 2}" y="${HEADER + cell + 2 * FRAME + 14}" font-family="${FONT}" font-size="12" text-anchor="middle" fill="#555555">${sideLabel('rejected')}</text>
      <text x="${PAD}" y="${tileH - 5}" font-family="${FONT}" font-size="10" fill="#777777">${escapeXml(footer.slice(0, charsPerLine + 10))}</text>
    </svg>`;
    layers.push({ input: Buffer.from(svg), left: x0, top: y0 });
    const [a, b] = await Promise.all([cellImage(store, pair, 'preferred', cell), cellImage(store, pair, 'rejected', cell)]);
    layers.push({ input: a, left: x0 + PAD + FRAME, top: y0 + HEADER + FRAME });
    layers.push({ input: b, left: x0 + 2 * PAD + cell + 3 * FRAME, top: y0 + HEADER + FRAME });
  }
  return sharp({ create: { width, height, channels: 3, background: '#f4f4f4' } }).composite(layers).png().toBuffer();
}
