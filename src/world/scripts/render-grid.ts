// render-grid.ts: writes a PNG grid of sampled scenes (with their prompts printed) to look at.
//   npx tsx src/world/scripts/render-grid.ts --n 24 --size 64 --seed 1 --out /tmp/world-grid.png
import sharp from 'sharp';
import type { RgbImage } from '../../api/interfaces.js';
import { sampleScene, describeScene } from '../scene.js';
import { renderScene } from '../render/render-scene.js';
import { formatPrompt } from '../prompt/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Tiles images (all the same size) into one RGB image, `cols` per row, 2 px gaps. */
export function tile(images: readonly RgbImage[], cols: number, zoom = 1): RgbImage {
  const w = images[0]!.width * zoom;
  const h = images[0]!.height * zoom;
  const rows = Math.ceil(images.length / cols);
  const W = cols * (w + 2);
  const H = rows * (h + 2);
  const data = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, k) => {
    const ox = (k % cols) * (w + 2);
    const oy = Math.floor(k / cols) * (h + 2);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = 3 * (Math.floor(y / zoom) * img.width + Math.floor(x / zoom));
        const d = 3 * ((oy + y) * W + ox + x);
        data[d] = img.data[s]!;
        data[d + 1] = img.data[s + 1]!;
        data[d + 2] = img.data[s + 2]!;
      }
    }
  });
  return { width: W, height: H, data };
}

export async function writePng(img: RgbImage, path: string): Promise<void> {
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
}

async function run(): Promise<void> {
  const n = Number(arg('n', '24'));
  const size = Number(arg('size', '64'));
  const seed = Number(arg('seed', '1'));
  const out = arg('out', '/tmp/world-grid.png');
  const zoom = Number(arg('zoom', '3'));
  const images: RgbImage[] = [];
  for (let i = 0; i < n; i++) {
    const scene = sampleScene(seed * 1000 + i);
    images.push(renderScene(scene, size));
    console.log(`${i}: ${formatPrompt(describeScene(scene))}`);
  }
  await writePng(tile(images, 6, zoom), out);
  console.log(`wrote ${out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
