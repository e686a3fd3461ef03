// blur.ts: separable Gaussian blur of float planes (width * height, row-major), clamped at the
// borders, and the masked ("normalized convolution") variant that averages only inside a mask.

/** Normalised 1-D Gaussian taps for sigma (pixels), radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Blurs `plane` (w * h) in place with a Gaussian of `sigma` pixels; `scratch` has w * h floats. */
export function blurPlane(plane: Float32Array, w: number, h: number, sigma: number, scratch = new Float32Array(w * h)): void {
  if (sigma <= 0.05) return;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  // 1. rows: plane -> scratch
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
        acc += k[i + r]! * plane[row + xx]!;
      }
      scratch[row + x] = acc;
    }
  }
  // 2. columns: scratch -> plane
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
        acc += k[i + r]! * scratch[yy * w + x]!;
      }
      plane[y * w + x] = acc;
    }
  }
}

/**
 * Masked Gaussian average: out = blur(plane * mask) / blur(mask) where mask > 0, 0 elsewhere.
 * Smooths a signal inside a region without mixing in what lies outside it.
 */
export function maskedBlur(plane: Float32Array, mask: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const num = new Float32Array(w * h);
  const den = mask.slice();
  for (let i = 0; i < num.length; i++) num[i] = plane[i]! * mask[i]!;
  const scratch = new Float32Array(w * h);
  blurPlane(num, w, h, sigma, scratch);
  blurPlane(den, w, h, sigma, scratch);
  const out = new Float32Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = mask[i]! > 0 && den[i]! > 1e-6 ? num[i]! / den[i]! : 0;
  return out;
}
