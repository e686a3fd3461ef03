// model-inputs.ts: the checks the diffusion models run on their input tensors before any native call.
import { TreeRewardError, expected } from '../native/errors.js';
import { Tensor } from '../api/tensor.js';
import { fmtShape } from '../api/validate.js';

/** A live float32 tensor (the models' parameters are float32). */
export function requireFloat32(v: unknown, name: string): Tensor {
  if (!(v instanceof Tensor)) throw expected('a Tensor', name, v);
  if (v.isDisposed) throw new TreeRewardError('DISPOSED', `Expected a live tensor for ${name} but received one that was disposed`);
  if (v.dtype !== 'float32') throw new TreeRewardError('DTYPE', `Expected a float32 tensor for ${name} but received ${v.dtype}`);
  return v;
}

/**
 * A float32 (B, channels, H, W) tensor with H and W divisible by `multiple`; `layout` names the
 * dimensions in the message ("(B, 4, h, w)").
 */
export function requireFeatureMap(v: unknown, name: string, channels: number, multiple: number, layout: string): Tensor {
  const t = requireFloat32(v, name);
  const s = t.shape;
  if (s.length !== 4 || s[1] !== channels || s[2] % multiple !== 0 || s[3] % multiple !== 0 || s[0] < 1) {
    const cond = multiple > 1 ? ` with both sides divisible by ${multiple}` : '';
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected shape ${layout}${cond} for ${name} but received ${fmtShape(s)}`);
  }
  return t;
}
