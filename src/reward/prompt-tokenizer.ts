// prompt-tokenizer.ts: what a reward model needs from a tokenizer: prompts -> ids and mask tensors.
import { tensor, type Tensor } from '../api/index.js';

export interface PromptTokenizer {
  /** Pads or truncates to maxLength; ids int32 (B, T), mask float32 (B, T) of 1 / 0. */
  encode(prompts: string[], maxLength: number): { ids: Tensor; mask: Tensor };
}

/**
 * A word-level tokenizer over a fixed vocabulary, [CLS] first, [SEP] last, [PAD] 0, [UNK] for the
 * rest: the synthetic world's prompts use a small closed vocabulary.
 */
export class VocabularyTokenizer implements PromptTokenizer {
  readonly vocab: Map<string, number>;
  static readonly SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

  constructor(words: Iterable<string>) {
    this.vocab = new Map(VocabularyTokenizer.SPECIAL.map((w, i) => [w, i]));
    for (const w of words) if (!this.vocab.has(w)) this.vocab.set(w, this.vocab.size);
  }

  static split(text: string): string[] {
    return text.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g) ?? [];
  }

  get size(): number {
    return this.vocab.size;
  }

  encode(prompts: string[], maxLength: number): { ids: Tensor; mask: Tensor } {
    const ids = new Int32Array(prompts.length * maxLength);
    const mask = new Float32Array(prompts.length * maxLength);
    prompts.forEach((p, b) => {
      const toks = [2, ...VocabularyTokenizer.split(p).map((w) => this.vocab.get(w) ?? 1)].slice(0, maxLength - 1);
      toks.push(3);
      toks.forEach((t, i) => {
        ids[b * maxLength + i] = t;
        mask[b * maxLength + i] = 1;
      });
    });
    return { ids: tensor(ids, [prompts.length, maxLength], { dtype: 'int32' }), mask: tensor(mask, [prompts.length, maxLength]) };
  }
}
