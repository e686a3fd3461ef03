// library.ts: tokenizers backed by @huggingface/tokenizers (Hugging Face's pure-JavaScript
// tokenizers, no native binary), built from a tokenizer.json document: either a real one from a
// model repository, or one clip.ts / bert.ts write from vocab.json + merges.txt / vocab.txt.
// Special tokens are found by encoding a probe with and without them, so every tokenizer.json
// truncates and pads the same way (assembleBatch).
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

import { expected, TreeRewardError } from '../native/errors.js';
import { assembleBatch, checkTexts, type DecodeOptions, type EncodedBatch, type EncodeOptions, type Tokenizer } from './types.js';

export interface LibraryTokenizerOptions {
  kind?: string;
  /** Defaults to 77. */
  maxLength?: number;
  /** The padding token. Defaults to the document's pad token, else the closing special token, else id 0. */
  padToken?: string;
  /** tokenizer_config.json's contents, where there is one. */
  config?: Record<string, unknown>;
}

export class LibraryTokenizer implements Tokenizer {
  readonly kind: string;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly padId: number;
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  readonly #tok: HfTokenizer;

  constructor(json: object, options: LibraryTokenizerOptions = {}) {
    try {
      this.#tok = new HfTokenizer(json, options.config ?? {});
    } catch (e) {
      throw new TreeRewardError('CORRUPT_FILE', `Expected a tokenizer.json document the tokenizer library can build but ${(e as Error).message}`, { cause: e });
    }
    this.kind = options.kind ?? 'tokenizer.json';
    this.maxLength = options.maxLength ?? 77;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 1) throw expected('a positive integer', 'maxLength', options.maxLength);
    const vocab = this.#tok.get_vocab(true);
    this.vocabSize = Math.max(-1, ...vocab.values()) + 1;
    // 1. the special tokens around content: encode a probe with and without them
    const probe = ['a', 'x', '1', '.'].find((p) => this.#tok.encode(p, { add_special_tokens: false }).ids.length > 0) ?? 'a';
    const bare = this.#tok.encode(probe, { add_special_tokens: false }).ids;
    const withSpecials = this.#tok.encode(probe).ids;
    const at = bare.length ? findRun(withSpecials, bare) : -1;
    if (at < 0) throw new TreeRewardError('CORRUPT_FILE', `Expected the tokenizer to keep a text's tokens when it adds special tokens but the probe ${JSON.stringify(probe)} gave [${bare}] alone and [${withSpecials}] with them`);
    this.prefixIds = withSpecials.slice(0, at);
    this.suffixIds = withSpecials.slice(at + bare.length);
    // 2. the padding id
    const padToken = options.padToken ?? (options.config?.pad_token as string | { content?: string } | undefined);
    const padName = typeof padToken === 'string' ? padToken : padToken?.content;
    if (padName !== undefined) {
      const id = this.#tok.token_to_id(padName);
      if (id === undefined) throw expected('a token in the vocabulary', 'padToken', padName);
      this.padId = id;
    } else {
      this.padId = this.suffixIds[this.suffixIds.length - 1] ?? 0;
    }
  }

  encode(texts: string[], options: EncodeOptions = {}): EncodedBatch {
    const rows = checkTexts(texts).map((t) => this.#tok.encode(t, { add_special_tokens: false }).ids);
    return assembleBatch(rows, this, options);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const list = Array.from(ids);
    const skip = options.skipSpecialTokens ?? true;
    // padding may be an ordinary token (CLIP pads with <|endoftext|>): drop the padded tail too
    let end = list.length;
    if (skip) while (end > 0 && list[end - 1] === this.padId) end--;
    return this.#tok.decode(list.slice(0, end), { skip_special_tokens: skip }).trim();
  }

  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw expected('a string', 'text', text);
    return this.#tok.tokenize(text, { add_special_tokens: false });
  }

  tokenToId(token: string): number | undefined {
    return this.#tok.token_to_id(token);
  }
}

function findRun(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
