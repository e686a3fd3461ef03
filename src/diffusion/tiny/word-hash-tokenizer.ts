// word-hash-tokenizer.ts: a stand-in tokenizer for tests and small experiments: lower-cased words
// hashed (FNV-1a) into a fixed vocabulary, framed by begin and end tokens and padded, as CLIP's
// tokenizer frames and pads. Ids: 0 pad, 1 begin, 2 end, 3.. words.
import { z } from 'zod';

import { tensor } from '../../api/create.js';
import type { Tensor } from '../../api/tensor.js';
import { expected } from '../../native/errors.js';
import { parseWith } from '../config-check.js';
import type { PromptTokenizer } from '../types.js';

export const wordHashTokenizerConfigSchema = z.strictObject({
  /** Ids in all, the three special ones included. Defaults to 1024. */
  vocabSize: z.int().min(4).default(1024),
  /** Tokens per prompt, begin and end included. Defaults to 16. */
  maxLength: z.int().min(2).default(16),
});
export type WordHashTokenizerConfig = z.output<typeof wordHashTokenizerConfigSchema>;

function fnv1a(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class WordHashTokenizer implements PromptTokenizer {
  readonly config: WordHashTokenizerConfig;

  constructor(config: z.input<typeof wordHashTokenizerConfigSchema> = {}) {
    this.config = parseWith(wordHashTokenizerConfigSchema, config, 'tokenizer');
  }

  /** The ids of one prompt, framed and padded to maxLength. */
  ids(prompt: string): number[] {
    if (typeof prompt !== 'string') throw expected('a string', 'prompt', prompt);
    const { vocabSize, maxLength } = this.config;
    const words = prompt.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
    const body = words.slice(0, maxLength - 2).map((w) => 3 + (fnv1a(w) % (vocabSize - 3)));
    const out = [1, ...body, 2];
    while (out.length < maxLength) out.push(0);
    return out;
  }

  tokenize(prompts: string[]): Tensor {
    if (!Array.isArray(prompts)) throw expected('an array of strings', 'prompts', prompts);
    const flat = new Int32Array(prompts.length * this.config.maxLength);
    prompts.forEach((p, i) => flat.set(this.ids(p), i * this.config.maxLength));
    return tensor(flat, [prompts.length, this.config.maxLength], { dtype: 'int32' });
  }
}
