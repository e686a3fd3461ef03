// image-normalize.ts: the pixel normalisation BLIP / ImageReward and CLIP expect: per channel
// (x - mean) / std with OpenAI CLIP's constants, on images (B, 3, H, W) with values in [0, 1].
import { tensor } from '../api/create.js';
import { tidy } from '../api/scope.js';
import { Tensor } from '../api/tensor.js';
import { fmtShape } from '../api/validate.js';
import { expected, TreeRewardError } from '../native/errors.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** pixels (B, 3, H, W) in [0, 1] -> (pixels - mean) / std per channel; differentiable. */
export function normalizeImage(pixels: Tensor, mean: readonly number[] = CLIP_MEAN, std: readonly number[] = CLIP_STD): Tensor {
  if (!(pixels instanceof Tensor)) throw expected('a Tensor', 'pixels', pixels);
  if (pixels.rank !== 4 || pixels.shape[1] !== 3) {
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected a tensor of shape [B, 3, H, W] for pixels but received ${fmtShape(pixels.shape)}`);
  }
  if (mean.length !== 3) throw expected('3 channel means', 'mean', mean);
  if (std.length !== 3 || std.some((s) => !(s > 0))) throw expected('3 positive channel stds', 'std', std);
  return tidy(() => {
    const m = tensor([...mean], [1, 3, 1, 1], { dtype: pixels.dtype });
    const s = tensor([...std], [1, 3, 1, 1], { dtype: pixels.dtype });
    return pixels.sub(m).div(s);
  });
}
