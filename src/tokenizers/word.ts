// word.ts: the synthetic world's word-level tokenizer: a vocabulary list with [PAD] = 0, [CLS],
// [SEP] and [UNK] first; text lower-cased and split into words (letters and digits, joined by
// inner hyphens or apostrophes: "rule-of-thirds") and single punctuation marks; [CLS] ... [SEP]
// around each text, as the BERT tokenizer does, so the world's BLIP reads prompts the same way.
import { readFileSync } from 'node:fs';

import { expected, TreeRewardError } from '../native/errors.js';
import { assembleBatch, checkTexts, type DecodeOptions, type EncodedBatch, type EncodeOptions, type Tokenizer } from './types.js';

export const WORD_SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]'] as const;
const WORD = /[\p{L}\p{N}]+(?:[-'][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

/** The words of a text as the word tokenizer splits them. */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The sorted distinct words of some texts (a vocabulary for WordTokenizer.fromWords). */
export function wordsOf(texts: Iterable<string>): string[] {
  const set = new Set<string>();
  for (const t of texts) for (const w of splitWords(t)) set.add(w);
  return [...set].sort();
}

export interface WordTokenizerOptions {
  /** Defaults to 32. */
  maxLength?: number;
}

export class WordTokenizer implements Tokenizer {
  readonly kind = 'word';
  readonly maxLength: number;
  readonly padId = 0;
  readonly clsId = 1;
  readonly sepId = 2;
  readonly unkId = 3;
  readonly prefixIds = [1];
  readonly suffixIds = [2];
  /** The vocabulary, specials first: id = index. */
  readonly vocab: readonly string[];
  readonly #ids: Map<string, number>;

  private constructor(vocab: string[], maxLength: number) {
    this.vocab = vocab;
    this.#ids = new Map(vocab.map((w, i) => [w, i]));
    this.maxLength = maxLength;
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** From the words alone (specials are put first; duplicates are dropped, order is kept). */
  static fromWords(words: Iterable<string>, options: WordTokenizerOptions = {}): WordTokenizer {
    const maxLength = options.maxLength ?? 32;
    if (!Number.isInteger(maxLength) || maxLength < 3) throw expected('an integer of at least 3', 'maxLength', maxLength);
    const vocab: string[] = [...WORD_SPECIALS];
    const seen = new Set<string>(vocab);
    let i = 0;
    for (const w of words) {
      if (typeof w !== 'string' || splitWords(w).length !== 1 || splitWords(w)[0] !== w) {
        throw expected('a lower-case word or a single punctuation mark', `words[${i}]`, w);
      }
      if (!seen.has(w)) {
        seen.add(w);
        vocab.push(w);
      }
      i++;
    }
    return new WordTokenizer(vocab, maxLength);
  }

  /** From a vocabulary file written by save(): one token per line, the specials first. */
  static fromFile(path: string, options: WordTokenizerOptions = {}): WordTokenizer {
    let lines: string[];
    try {
      lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
    } catch (e) {
      throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
    }
    WORD_SPECIALS.forEach((s, i) => {
      if (lines[i] !== s) throw new TreeRewardError('CORRUPT_FILE', `Expected ${s} on line ${i + 1} of the word vocabulary ${path} but found ${JSON.stringify(lines[i] ?? null)}`);
    });
    return WordTokenizer.fromWords(lines.slice(WORD_SPECIALS.length), options);
  }

  /** The vocabulary file's text: one token per line. */
  toText(): string {
    return this.vocab.join('\n') + '\n';
  }

  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw expected('a string', 'text', text);
    return splitWords(text).map((w) => (this.#ids.has(w) ? w : '[UNK]'));
  }

  tokenToId(token: string): number | undefined {
    return this.#ids.get(token);
  }

  encode(texts: string[], options: EncodeOptions = {}): EncodedBatch {
    const rows = checkTexts(texts).map((t) => splitWords(t).map((w) => this.#ids.get(w) ?? this.unkId));
    return assembleBatch(rows, this, options);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    let out = '';
    for (const id of Array.from(ids)) {
      const w = this.vocab[id];
      if (w === undefined) throw expected(`ids below ${this.vocab.length}`, 'ids', id);
      if (skip && id < WORD_SPECIALS.length) continue; // [UNK] included, as transformers does
      out += out === '' || /^[^\p{L}\p{N}[]$/u.test(w) ? w : ` ${w}`;
    }
    return out;
  }
}
