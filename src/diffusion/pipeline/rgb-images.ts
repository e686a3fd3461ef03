// rgb-images.ts: 8-bit RGB images (interleaved, row-major) to and from pixel tensors (B, 3, H, W)
// in [-1, 1], a grid of images, and PNG files (sharp).
import sharp from 'sharp';

import { tensor } from '../../api/create.js';
import { F } from '../../api/index.js';
import { tidy } from '../../api/scope.js';
import type { Tensor } from '../../api/tensor.js';
import { fmtShape } from '../../api/validate.js';
import type { RgbImage } from '../../api/interfaces.js';
import { expected, TreeRewardError } from '../../native/errors.js';

function checkImage(img: RgbImage, name: string): void {
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1 || !(img.data instanceof Uint8Array)) {
    throw expected('an RgbImage { width, height, data: Uint8Array }', name, img);
  }
  if (img.data.length !== img.width * img.height * 3) throw expected(`${img.width * img.height * 3} bytes (${img.width}x${img.height}x3)`, `${name}.data`, img.data);
}

/** Images of one size -> pixels (B, 3, H, W) in [-1, 1] (x / 127.5 - 1). */
export function imagesToPixels(images: readonly RgbImage[]): Tensor {
  if (!Array.isArray(images) || images.length === 0) throw expected('a non-empty array of images', 'images', images);
  images.forEach((img, i) => checkImage(img, `images[${i}]`));
  const { width: W, height: H } = images[0];
  images.forEach((img, i) => {
    if (img.width !== W || img.height !== H) throw expected(`a ${W}x${H} image (the size of images[0])`, `images[${i}]`, `${img.width}x${img.height}`);
  });
  return tidy(() => {
    const hwc = images.map((img) => tensor(Float32Array.from(img.data), [1, H, W, 3]));
    const nhwc = hwc.length === 1 ? hwc[0] : F.concat(hwc, 0);
    return nhwc.permute(0, 3, 1, 2).contiguous().div(127.5).sub(1);
  });
}

/** Pixels (B, 3, H, W) in about [-1, 1] -> 8-bit images: round((x + 1) * 127.5) clamped to [0, 255]. */
export function pixelsToImages(pixels: Tensor): RgbImage[] {
  const s = pixels.shape;
  if (s.length !== 4 || s[1] !== 3) throw new TreeRewardError('SHAPE_MISMATCH', `Expected pixels of shape [B, 3, H, W] for pixels but received ${fmtShape(s)}`);
  const [B, , H, W] = s;
  const values = tidy(() => pixels.add(1).mul(127.5).clamp(0, 255).permute(0, 2, 3, 1).contiguous().toArray());
  const bytes = new Uint8Array(Uint8ClampedArray.from(values).buffer); // rounds half to even
  const n = H * W * 3;
  return Array.from({ length: B }, (_, i) => ({ width: W, height: H, data: bytes.slice(i * n, (i + 1) * n) }));
}

/** Images of one size in a grid of `columns` (defaults to ceil(sqrt(n))), left to right, top to bottom; gaps black. */
export function imageGrid(images: readonly RgbImage[], columns = Math.ceil(Math.sqrt(images.length))): RgbImage {
  if (!Array.isArray(images) || images.length === 0) throw expected('a non-empty array of images', 'images', images);
  images.forEach((img, i) => checkImage(img, `images[${i}]`));
  if (!Number.isInteger(columns) || columns < 1) throw expected('a positive integer', 'columns', columns);
  const { width: w, height: h } = images[0];
  const rows = Math.ceil(images.length / columns);
  const W = w * columns, H = h * rows;
  const data = new Uint8Array(W * H * 3);
  images.forEach((img, i) => {
    if (img.width !== w || img.height !== h) throw expected(`a ${w}x${h} image (the size of images[0])`, `images[${i}]`, `${img.width}x${img.height}`);
    const x0 = (i % columns) * w, y0 = Math.floor(i / columns) * h;
    for (let y = 0; y < h; y++) data.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * W + x0) * 3);
  });
  return { width: W, height: H, data };
}

/** Writes an image as PNG. */
export async function writePng(path: string, image: RgbImage): Promise<void> {
  checkImage(image, 'image');
  try {
    await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(path);
  } catch (e) {
    throw new TreeRewardError('IO', `Expected to write a PNG at ${path} but ${(e as Error).message}`);
  }
}

/** Reads an image file (PNG, JPEG, WebP, ...) as 8-bit RGB. */
export async function readImage(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable image at ${path} but ${(e as Error).message}`);
  }
}
