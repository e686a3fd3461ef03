// tiny-text-encoder.ts: a stand-in text encoder: token and position embeddings, tanh, one linear
// layer: ids (B, T) -> (B, T, width). Enough for conditioning to matter in tests and small runs.
import { z } from 'zod';

import { F } from '../../api/index.js';
import type { Tensor } from '../../api/tensor.js';
import { fmtShape } from '../../api/validate.js';
import { TreeRewardError } from '../../native/errors.js';
import { parseWith } from '../config-check.js';
import type { TextEncoder } from '../types.js';
import { SeededParameters } from './seeded-parameters.js';

export const tinyTextEncoderConfigSchema = z.strictObject({
  vocabSize: z.int().min(4).default(1024),
  maxLength: z.int().min(2).default(16),
  /** Hidden width (the UNet's cross_attention_dim). Defaults to 32. */
  width: z.int().min(1).default(32),
});
export type TinyTextEncoderConfig = z.output<typeof tinyTextEncoderConfigSchema>;

export class TinyTextEncoder implements TextEncoder {
  readonly config: TinyTextEncoderConfig;
  readonly #params: Map<string, Tensor>;

  constructor(config: z.input<typeof tinyTextEncoderConfigSchema> = {}, seed = 0) {
    this.config = parseWith(tinyTextEncoderConfigSchema, config, 'textEncoder');
    const { vocabSize, maxLength, width } = this.config;
    const p = new SeededParameters(seed);
    p.normal('token_embedding.weight', [vocabSize, width], 1);
    p.normal('position_embedding.weight', [maxLength, width], 0.1);
    p.normal('proj.weight', [width, width], 1 / Math.sqrt(width));
    p.zeros('proj.bias', [width]);
    this.#params = p.map;
  }

  parameters(): Map<string, Tensor> {
    return this.#params;
  }

  encode(ids: Tensor): Tensor {
    const s = ids.shape;
    if (s.length !== 2 || s[1] !== this.config.maxLength || ids.dtype !== 'int32') {
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected int32 ids of shape [B, ${this.config.maxLength}] for ids but received ${ids.dtype} ${fmtShape(s)}`);
    }
    const p = this.#params;
    const tok = F.embedding(p.get('token_embedding.weight')!, ids);
    const h = tok.add(p.get('position_embedding.weight')!).tanh();
    const out = F.linear(h, p.get('proj.weight')!, p.get('proj.bias')!);
    tok.dispose();
    h.dispose();
    return out;
  }

  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
  }
}
