// clip.ts: CLIP's byte-level BPE tokenizer (Stable Diffusion 1.x's text encoder) from vocab.json +
// merges.txt, or from a tokenizer.json. The document written here is the one Hugging Face ships
// for openai/clip-vit-large-patch14: NFC, runs of whitespace to one space, lower-case; CLIP's
// split pattern, then GPT-2's byte-to-unicode map; BPE with "</w>" ending each word; each text
// wrapped in <|startoftext|> ... <|endoftext|> and padded with <|endoftext|> to 77 tokens.
import { readFileSync } from 'node:fs';

import { TreeRewardError } from '../native/errors.js';
import { LibraryTokenizer } from './library.js';

export const CLIP_BOS = '<|startoftext|>';
export const CLIP_EOS = '<|endoftext|>';
/** CLIP's context length. */
export const CLIP_MAX_LENGTH = 77;

export interface ClipTokenizerOptions {
  /** Defaults to 77. */
  maxLength?: number;
  /** Defaults to <|endoftext|> (SD 1.x); open_clip models (SD 2.x) pad with "!". */
  padToken?: string;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a readable file at ${path} but ${(e as Error).message}`, { cause: e });
  }
}

/** merges.txt's lines ("a b"), without the "#version" header and blank lines. */
export function parseMerges(text: string, path = 'merges.txt'): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '' && !l.startsWith('#version'));
  lines.forEach((l, i) => {
    if (l.split(' ').length !== 2) throw new TreeRewardError('CORRUPT_FILE', `Expected two space-separated symbols on each line of ${path} but line ${i + 1} is ${JSON.stringify(l)}`);
  });
  return lines;
}

/** The tokenizer.json document for a CLIP vocabulary and its merges. */
export function clipTokenizerJson(vocab: Record<string, number>, merges: string[]): object {
  for (const t of [CLIP_BOS, CLIP_EOS]) {
    if (!Number.isInteger(vocab[t])) throw new TreeRewardError('CORRUPT_FILE', `Expected the CLIP vocabulary to hold ${t} but it does not`);
  }
  const special = (t: string) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(CLIP_BOS), special(CLIP_EOS)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [CLIP_EOS, vocab[CLIP_EOS]], cls: [CLIP_BOS, vocab[CLIP_BOS]], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: CLIP_EOS, continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

/** A CLIP tokenizer from its vocabulary (token -> id) and merges ("a b" lines). */
export function clipTokenizer(vocab: Record<string, number>, merges: string[], options: ClipTokenizerOptions = {}): LibraryTokenizer {
  return new LibraryTokenizer(clipTokenizerJson(vocab, merges), { kind: 'clip-bpe', maxLength: options.maxLength ?? CLIP_MAX_LENGTH, padToken: options.padToken ?? CLIP_EOS });
}

/** A CLIP tokenizer from vocab.json and merges.txt (a diffusers "tokenizer" folder). */
export function clipTokenizerFromFiles(vocabJson: string, mergesTxt: string, options: ClipTokenizerOptions = {}): LibraryTokenizer {
  let vocab: unknown;
  try {
    vocab = JSON.parse(readText(vocabJson));
  } catch (e) {
    if (e instanceof TreeRewardError) throw e;
    throw new TreeRewardError('CORRUPT_FILE', `Expected JSON in ${vocabJson} but ${(e as Error).message}`);
  }
  if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab) || Object.values(vocab).some((v) => !Number.isInteger(v))) {
    throw new TreeRewardError('CORRUPT_FILE', `Expected an object of token -> integer id in ${vocabJson} but it is not one`);
  }
  return clipTokenizer(vocab as Record<string, number>, parseMerges(readText(mergesTxt), mergesTxt), options);
}
