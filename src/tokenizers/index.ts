// index.ts: tokenizers behind one interface, and loading one from a model folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TreeRewardError } from '../native/errors.js';
import { bertTokenizerFromFile, type BertTokenizerOptions } from './bert.js';
import { clipTokenizerFromFiles, type ClipTokenizerOptions } from './clip.js';
import { LibraryTokenizer } from './library.js';
import type { Tokenizer } from './types.js';

export { assembleBatch, type Tokenizer, type EncodeOptions, type EncodedBatch, type DecodeOptions } from './types.js';
export { LibraryTokenizer, type LibraryTokenizerOptions } from './library.js';
export { clipTokenizer, clipTokenizerFromFiles, clipTokenizerJson, parseMerges, CLIP_BOS, CLIP_EOS, CLIP_MAX_LENGTH, type ClipTokenizerOptions } from './clip.js';
export { bertTokenizer, bertTokenizerFromFile, bertTokenizerJson, parseVocabTxt, BERT_SPECIALS, type BertTokenizerOptions } from './bert.js';
export { WordTokenizer, wordsOf, splitWords, WORD_SPECIALS, type WordTokenizerOptions } from './word.js';
export { batchToTensors } from './tensors.js';

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TreeRewardError((e as NodeJS.ErrnoException).code ? 'IO' : 'CORRUPT_FILE', `Expected a readable JSON file at ${path} but ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The tokenizer in a model folder: tokenizer.json (with tokenizer_config.json when present), else
 * vocab.json + merges.txt (CLIP BPE), else vocab.txt (BERT WordPiece).
 */
export function loadTokenizer(dir: string, options: ClipTokenizerOptions & BertTokenizerOptions = {}): Tokenizer {
  const at = (f: string) => join(dir, f);
  if (existsSync(at('tokenizer.json'))) {
    const config = existsSync(at('tokenizer_config.json')) ? readJson(at('tokenizer_config.json')) : {};
    const configured = typeof config.model_max_length === 'number' && config.model_max_length < 1e6 ? config.model_max_length : undefined;
    return new LibraryTokenizer(readJson(at('tokenizer.json')), { config, maxLength: options.maxLength ?? configured, padToken: options.padToken });
  }
  if (existsSync(at('vocab.json')) && existsSync(at('merges.txt'))) return clipTokenizerFromFiles(at('vocab.json'), at('merges.txt'), options);
  if (existsSync(at('vocab.txt'))) return bertTokenizerFromFile(at('vocab.txt'), options);
  throw new TreeRewardError('IO', `Expected tokenizer.json, vocab.json with merges.txt, or vocab.txt in ${dir} but found none of them`);
}
