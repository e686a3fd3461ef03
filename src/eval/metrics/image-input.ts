// image-input.ts: generated images into an image encoder: resized to the encoder's square input
// size with sharp (bicubic, as CLIP's preprocessing; any size to any size), then float32
// (B, 3, S, S) in [0, 1]. Encoders normalise the pixels themselves.
import sharp from 'sharp';

import type { RgbImage } from '../../api/interfaces.js';
import type { Tensor } from '../../api/index.js';
import { imagesToTensor } from '../../reward/preprocess.js';

export async function resizeImage(image: RgbImage, size: number): Promise<RgbImage> {
  if (image.width === size && image.height === size) return image;
  const data = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  return { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Images of any sizes -> (B, 3, size, size) in [0, 1]. */
export async function pixelsAt(images: readonly RgbImage[], size: number): Promise<Tensor> {
  return imagesToTensor(await Promise.all(images.map((img) => resizeImage(img, size))));
}
