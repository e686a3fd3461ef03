// bert.ts: BERT's WordPiece tokenizer (BLIP's and ImageReward's text encoder: bert-base-uncased)
// from vocab.txt: clean-up and lower-casing with accents stripped (BertNormalizer), splitting on
// whitespace and punctuation (BertPreTokenizer), greedy longest-match WordPiece with "##"
// continuation pieces, and [CLS] ... [SEP] around each text, padded with [PAD].
import { readFileSync } from 'node:fs';

import { TreeRewardError } from '../native/errors.js';
import { LibraryTokenizer } from './library.js';

export const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface BertTokenizerOptions {
  /** Lower-case and strip accents (an "uncased" model). Defaults to true. */
  lowercase?: boolean;
  /** Defaults to 512 (BERT's positions); ImageReward uses 35. */
  maxLength?: number;
  /** Special tokens added after the vocabulary, in order (BLIP adds "[DEC]" and "[ENC]"). Defaults to none. */
  extraSpecialTokens?: string[];
}

/** The tokenizer.json document for a WordPiece vocabulary (one token per line of vocab.txt, id = line number). */
export function bertTokenizerJson(tokens: string[], options: BertTokenizerOptions = {}): object {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i;
  });
  for (const t of ['[UNK]', '[CLS]', '[SEP]', '[PAD]']) {
    if (!(t in vocab)) throw new TreeRewardError('CORRUPT_FILE', `Expected the WordPiece vocabulary to hold ${t} but it does not`);
  }
  const extra = options.extraSpecialTokens ?? [];
  extra.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = tokens.length + i;
  });
  const special = (t: string) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const lower = options.lowercase ?? true;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...BERT_SPECIALS.filter((t) => t in vocab), ...extra].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: lower },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']], cls: ['[CLS]', vocab['[CLS]']] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function bertTokenizer(tokens: string[], options: BertTokenizerOptions = {}): LibraryTokenizer {
  return new LibraryTokenizer(bertTokenizerJson(tokens, options), { kind: 'bert-wordpiece', maxLength: options.maxLength ?? 512, padToken: '[PAD]' });
}

/** vocab.txt's tokens: one per line, the line number is the id. */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function bertTokenizerFromFile(vocabTxt: string, options: BertTokenizerOptions = {}): LibraryTokenizer {
  let text: string;
  try {
    text = readFileSync(vocabTxt, 'utf8');
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable file at ${vocabTxt} but ${(e as Error).message}`, { cause: e });
  }
  return bertTokenizer(parseVocabTxt(text), options);
}
