// figures.ts: the report's SVG figures as PNG files, rendered by sharp (librsvg) at twice the SVG's
// size, so the same figures can go into a paper or a slide without a browser.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

export async function svgToPng(svg: string, file: string, scale = 2): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  try {
    await sharp(Buffer.from(svg), { density: 72 * scale }).png({ compressionLevel: 9 }).toFile(file);
  } catch (e) {
    throw new Error(`Expected to render a figure to ${file} but ${(e as Error).message}`);
  }
}
