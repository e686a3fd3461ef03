// tensors.ts: an encoded batch as engine tensors, for the models that take ids and a mask.
import { tensor } from '../api/create.js';
import type { Tensor } from '../api/tensor.js';
import type { EncodedBatch } from './types.js';

/** ids int32 (B, T) and mask float32 (B, T). */
export function batchToTensors(b: EncodedBatch): { ids: Tensor; mask: Tensor } {
  const ids = tensor(b.ids, [b.batch, b.length], { dtype: 'int32' });
  try {
    return { ids, mask: tensor(b.mask, [b.batch, b.length]) };
  } catch (e) {
    ids.dispose();
    throw e;
  }
}
