// preprocess.ts: images into the reward backbone, differentiably: 8-bit RGB -> (B, 3, H, W) in
// [0, 1], resize to the model's size, normalise with CLIP's mean and std (as BLIP and ImageReward).
import { bilinearResize } from './bilinear-resize.js';
import type { RgbImage } from '../api/interfaces.js';
import { F, tensor, type Tensor } from '../api/index.js';
import { TreeRewardError } from '../native/errors.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** 8-bit RGB images of one size -> float32 (B, 3, H, W) in [0, 1]. */
export function imagesToTensor(images: readonly RgbImage[]): Tensor {
  if (images.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected at least one image for imagesToTensor but received none');
  const { width: W, height: H } = images[0];
  const out = new Float32Array(images.length * 3 * H * W);
  images.forEach((img, b) => {
    if (img.width !== W || img.height !== H) {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected images of one size (${W}x${H}) but image ${b} is ${img.width}x${img.height}`);
    }
    const base = b * 3 * H * W;
    for (let i = 0; i < H * W; i++) {
      out[base + i] = img.data[3 * i] / 255;
      out[base + H * W + i] = img.data[3 * i + 1] / 255;
      out[base + 2 * H * W + i] = img.data[3 * i + 2] / 255;
    }
  });
  return tensor(out, [images.length, 3, H, W]);
}

/** Resizes (B, 3, H, W) to size x size: integer average pooling, nearest upsampling by powers of two, else bilinear. */
export function resizeTo(images: Tensor, size: number): Tensor {
  const [, , H, W] = images.shape;
  if (H !== W) throw new TreeRewardError('SHAPE_MISMATCH', `Expected square images for the reward model but received ${H}x${W}`);
  if (H === size) return images;
  if (H > size && H % size === 0) return F.avgPool2d(images, H / size);
  let x = images, s = H;
  while (s < size && size % (s * 2) === 0) {
    x = F.upsampleNearest2x(x);
    s *= 2;
  }
  if (s === size) return x;
  // any other ratio (SD1.5's 512-pixel images to BLIP's 224): bilinear, as F.interpolate(align_corners=False)
  return bilinearResize(images, size);
}

/** (x - mean) / std per channel; x (B, 3, S, S) in [0, 1]. */
export function normalise(images: Tensor): Tensor {
  const mean = tensor(CLIP_MEAN, [1, 3, 1, 1], { device: images.device });
  const std = tensor(CLIP_STD, [1, 3, 1, 1], { device: images.device });
  return images.sub(mean).div(std);
}
