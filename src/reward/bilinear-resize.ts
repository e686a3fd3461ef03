// bilinear-resize.ts: differentiable bilinear resizing of (B, C, H, W) images to (B, C, S, S), as
// PyTorch's F.interpolate(mode="bilinear", align_corners=False, antialias=False) (what ImageReward's
// preprocessing and the PyTorch peer use): two matrix products with fixed interpolation matrices,
//   out = R_h x R_w^T,   R (S, n): row i holds the weights of output pixel i over the n inputs.
import { tensor } from '../api/create.js';
import { tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { checkInt, fmtShape } from '../api/validate.js';
import { TreeRewardError } from '../native/errors.js';

/** The (out, n) matrix of 1-D linear interpolation with half-pixel centres (align_corners=False). */
export function interpolationMatrix(n: number, out: number): Float32Array {
  const m = new Float32Array(out * n);
  const scale = n / out;
  for (let i = 0; i < out; i++) {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const f = src - i0;
    m[i * n + i0] += 1 - f;
    m[i * n + i1] += f;
  }
  return m;
}

/** images (B, C, H, W) -> (B, C, size, size), differentiable in the images. */
export function bilinearResize(images: Tensor, size: number): Tensor {
  checkInt(size, 'size', 1);
  const s = images.shape;
  if (s.length !== 4) throw new TreeRewardError('SHAPE_MISMATCH', `Expected images of shape [B, C, H, W] for bilinearResize but received ${fmtShape(s)}`);
  const [B, C, H, W] = s;
  if (H === size && W === size) return images;
  return tidy(() => {
    const rwT = tensor(interpolationMatrix(W, size), [size, W], { dtype: images.dtype, device: images.device }).transpose(0, 1).contiguous(); // (W, S)
    const rhT = tensor(interpolationMatrix(H, size), [size, H], { dtype: images.dtype, device: images.device }).transpose(0, 1).contiguous(); // (H, S)
    const rows = images.contiguous().reshape([B * C * H, W]).matmul(rwT);                          // (BCH, S): along the width
    const cols = rows.reshape([B * C, H, size]).transpose(1, 2).contiguous().reshape([B * C * size, H]).matmul(rhT); // (BC S_w, S_h)
    return cols.reshape([B * C, size, size]).transpose(1, 2).contiguous().reshape([B, C, size, size]);
  });
}
