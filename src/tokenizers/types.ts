// types.ts: the one tokenizer interface (CLIP BPE, BERT WordPiece, the world's word vocabulary)
// and the batch assembly they share: special tokens around each row's content, truncation of the
// content (never of the closing token), padding, and the attention mask.
import { expected, TreeRewardError } from '../native/errors.js';

export interface EncodeOptions {
  /** Tokens per row, special tokens included. Defaults to the tokenizer's maxLength (77 for CLIP). */
  maxLength?: number;
  /** 'max_length' pads every row to maxLength (the default); 'longest' to the batch's longest row. */
  padding?: 'max_length' | 'longest';
  /** Cuts content that does not fit (keeping the closing special token). Defaults to true; false makes an over-long text an error. */
  truncation?: boolean;
}

export interface EncodedBatch {
  /** (B, T) token ids, row-major. */
  ids: Int32Array;
  /** (B, T): 1 for tokens (special ones included), 0 for padding. */
  mask: Float32Array;
  /** T, the padded row length. */
  length: number;
  /** B. */
  batch: number;
  /** Tokens per row before padding. */
  lengths: number[];
}

export interface DecodeOptions {
  /** Leaves out special tokens (start, end, padding). Defaults to true. */
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** What the tokenizer is ("clip-bpe", "bert-wordpiece", "word", "tokenizer.json"). */
  readonly kind: string;
  /** Ids in use (the embedding table needs at least this many rows). */
  readonly vocabSize: number;
  /** The default maxLength. */
  readonly maxLength: number;
  readonly padId: number;
  /** Special tokens put before and after each row's content ([bos] / [eos], [CLS] / [SEP]). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  encode(texts: string[], options?: EncodeOptions): EncodedBatch;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** The content tokens of one text, as strings (no special tokens). */
  tokenize(text: string): string[];
  tokenToId(token: string): number | undefined;
}

export function checkTexts(texts: unknown): string[] {
  if (!Array.isArray(texts)) throw expected('an array of strings', 'texts', texts);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw expected('a string', `texts[${i}]`, t);
  });
  return texts as string[];
}

/** Rows of content ids -> the padded (B, T) batch with specials and mask. */
export function assembleBatch(rows: number[][], tok: Pick<Tokenizer, 'maxLength' | 'padId' | 'prefixIds' | 'suffixIds'>, options: EncodeOptions = {}): EncodedBatch {
  const maxLength = options.maxLength ?? tok.maxLength;
  const padding = options.padding ?? 'max_length';
  const truncation = options.truncation ?? true;
  const specials = tok.prefixIds.length + tok.suffixIds.length;
  if (!Number.isInteger(maxLength) || maxLength <= specials) throw expected(`an integer greater than ${specials} (the special tokens)`, 'maxLength', maxLength);
  if (padding !== 'max_length' && padding !== 'longest') throw expected('"max_length" or "longest"', 'padding', padding);
  if (typeof truncation !== 'boolean') throw expected('a boolean', 'truncation', truncation);
  const room = maxLength - specials;
  const full = rows.map((content, i) => {
    if (content.length > room && !truncation) {
      throw new TreeRewardError('INVALID_ARGUMENT', `Expected texts[${i}] to fit in ${maxLength} tokens but it has ${content.length + specials} (pass truncation: true to cut it)`);
    }
    return [...tok.prefixIds, ...content.slice(0, room), ...tok.suffixIds];
  });
  const T = padding === 'max_length' ? maxLength : Math.max(specials, ...full.map((r) => r.length));
  const B = full.length;
  const ids = new Int32Array(B * T).fill(tok.padId);
  const mask = new Float32Array(B * T);
  full.forEach((r, b) => {
    ids.set(r, b * T);
    mask.fill(1, b * T, b * T + r.length);
  });
  return { ids, mask, length: T, batch: B, lengths: full.map((r) => r.length) };
}
