// tokenizers.test.ts: CLIP BPE, BERT WordPiece and the world's word tokenizer on tiny vocabularies
// written here (the real files cannot be downloaded): special tokens, padding to 77, truncation
// that keeps the closing token, lower-casing, ## continuation pieces, one interface for all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  batchToTensors, bertTokenizer, bertTokenizerFromFile, clipTokenizerFromFiles, clipTokenizerJson, loadTokenizer, WordTokenizer, wordsOf, type Tokenizer,
} from '../../src/tokenizers/index.js';
import { TreeRewardError } from '../../src/native/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'treereward-tok-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function row(b: { ids: Int32Array; length: number }, i: number): number[] {
  return Array.from(b.ids.subarray(i * b.length, (i + 1) * b.length));
}

// ---- a tiny CLIP vocabulary: single characters with and without </w>, a few merges, the two specials ----
const clipVocab: Record<string, number> = {};
for (const c of 'abcdefghijklmnopqrstuvwxyz,.!0123456789') {
  clipVocab[c] = Object.keys(clipVocab).length;
  clipVocab[`${c}</w>`] = Object.keys(clipVocab).length;
}
const clipMerges = ['r e', 're d</w>', 'c a', 'ca t</w>', 's t', 'st a', 'sta r</w>'];
for (const m of clipMerges) clipVocab[m.replace(' ', '')] = Object.keys(clipVocab).length;
clipVocab['<|startoftext|>'] = Object.keys(clipVocab).length;
clipVocab['<|endoftext|>'] = Object.keys(clipVocab).length;
const BOS = clipVocab['<|startoftext|>'], EOS = clipVocab['<|endoftext|>'];

function clipDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(clipVocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${clipMerges.join('\n')}\n`);
  return dir;
}

describe('CLIP BPE', () => {
  const dir = clipDir();
  const clip = clipTokenizerFromFiles(join(dir, 'vocab.json'), join(dir, 'merges.txt'));

  it('wraps each text in <|startoftext|> ... <|endoftext|> and pads with <|endoftext|> to 77', () => {
    expect([clip.kind, clip.maxLength, clip.prefixIds, clip.suffixIds, clip.padId]).toEqual(['clip-bpe', 77, [BOS], [EOS], EOS]);
    expect(clip.tokenize('A red  STAR, cat!')).toEqual(['a</w>', 'red</w>', 'star</w>', ',</w>', 'cat</w>', '!</w>']);
    const b = clip.encode(['a red star', 'cat']);
    expect([b.batch, b.length, b.ids.length, b.mask.length, b.lengths]).toEqual([2, 77, 154, 154, [5, 3]]);
    expect(row(b, 0).slice(0, 6)).toEqual([BOS, clipVocab['a</w>'], clipVocab['red</w>'], clipVocab['star</w>'], EOS, EOS]);
    expect(row(b, 1).slice(0, 3)).toEqual([BOS, clipVocab['cat</w>'], EOS]);
    expect(row(b, 1).slice(3).every((id) => id === EOS)).toBe(true);
    expect(Array.from(b.mask.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, 0]);
    expect(b.mask.reduce((s, x) => s + x, 0)).toBe(8);
  });

  it('merges by rank, lower-cases, collapses whitespace, splits digits one by one', () => {
    expect(clip.tokenize('Reds')).toEqual(['re', 'd', 's</w>']); // "re d</w>" needs the word to end after d
    expect(clip.tokenize('RED\t\n red')).toEqual(['red</w>', 'red</w>']);
    expect(clip.tokenize('a1 22')).toEqual(['a</w>', '1</w>', '2</w>', '2</w>']);
  });

  it('truncates content to 75 tokens and keeps <|endoftext|> last; longest padding; errors without truncation', () => {
    const long = Array.from({ length: 100 }, () => 'cat').join(' ');
    const b = clip.encode([long, 'red']);
    expect(row(b, 0)).toHaveLength(77);
    expect(row(b, 0)[0]).toBe(BOS);
    expect(row(b, 0)[76]).toBe(EOS);
    expect(row(b, 0).slice(1, 76).every((id) => id === clipVocab['cat</w>'])).toBe(true);
    expect(b.lengths).toEqual([77, 3]);
    const short = clip.encode(['red star', 'cat'], { padding: 'longest' });
    expect([short.length, row(short, 1)]).toEqual([4, [BOS, clipVocab['cat</w>'], EOS, EOS]]);
    const ten = clip.encode([long], { maxLength: 10 });
    expect(row(ten, 0)).toEqual([BOS, ...Array(8).fill(clipVocab['cat</w>']), EOS]);
    expect(() => clip.encode([long], { truncation: false })).toThrow('Expected texts[0] to fit in 77 tokens but it has 102 (pass truncation: true to cut it)');
    expect(() => clip.encode(['x'], { maxLength: 2 })).toThrow('Expected an integer greater than 2 (the special tokens) for maxLength but received 2');
    expect(() => clip.encode('a red star' as unknown as string[])).toThrow(TreeRewardError);
  });

  it('decodes back to text, dropping specials and padding', () => {
    const b = clip.encode(['A red cat, a star!']);
    expect(clip.decode(b.ids)).toBe('a red cat, a star!');
    expect(clip.decode(b.ids.subarray(0, 4), { skipSpecialTokens: false })).toContain('<|startoftext|>');
  });

  it('a tokenizer.json document and a folder load the same tokenizer', () => {
    const tj = tempDir();
    writeFileSync(join(tj, 'tokenizer.json'), JSON.stringify(clipTokenizerJson(clipVocab, clipMerges)));
    writeFileSync(join(tj, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 77, pad_token: '<|endoftext|>' }));
    const fromJson = loadTokenizer(tj);
    const fromFolder = loadTokenizer(dir);
    const texts = ['a red star, cat', 'star'];
    expect(Array.from(fromJson.encode(texts).ids)).toEqual(Array.from(clip.encode(texts).ids));
    expect(Array.from(fromFolder.encode(texts).ids)).toEqual(Array.from(clip.encode(texts).ids));
    expect(() => loadTokenizer(tempDir())).toThrow(/^Expected tokenizer\.json, vocab\.json with merges\.txt, or vocab\.txt in .* but found none of them$/);
    writeFileSync(join(tj, 'merges.bad'), 'a b c\n');
    expect(() => clipTokenizerFromFiles(join(dir, 'vocab.json'), join(tj, 'merges.bad'))).toThrow(`Expected two space-separated symbols on each line of ${join(tj, 'merges.bad')} but line 1 is "a b c"`);
  });
});

// ---- a tiny BERT vocabulary ----
const bertTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'red', 'star', '##s', 'un', '##believ', '##able', ',', '.', 'cafe', 'ring'];
const id = (t: string) => bertTokens.indexOf(t);

describe('BERT WordPiece', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'vocab.txt'), bertTokens.join('\n') + '\n');
  const bert = bertTokenizerFromFile(join(dir, 'vocab.txt'), { maxLength: 35 });

  it('[CLS] ... [SEP], lower-casing, accents stripped, ## continuation pieces, [UNK], [PAD]', () => {
    expect(bert.tokenize('A RED Stars, unbelievable. Café xyz')).toEqual(['a', 'red', 'star', '##s', ',', 'un', '##believ', '##able', '.', 'cafe', '[UNK]']);
    const b = bert.encode(['A RED Stars, unbelievable. Café xyz', 'ring']);
    expect(b.length).toBe(35);
    expect(row(b, 0).slice(0, 14)).toEqual(['[CLS]', 'a', 'red', 'star', '##s', ',', 'un', '##believ', '##able', '.', 'cafe', '[UNK]', '[SEP]', '[PAD]'].map(id));
    expect(row(b, 1).slice(0, 4)).toEqual([id('[CLS]'), id('ring'), id('[SEP]'), 0]);
    expect(b.lengths).toEqual([13, 3]);
    expect(Array.from(b.mask.subarray(35, 39))).toEqual([1, 1, 1, 0]);
    expect(bert.decode(b.ids.subarray(0, 35))).toBe('a red stars, unbelievable. cafe'); // [UNK] is special too, as in transformers
    expect(bert.decode(b.ids.subarray(0, 14), { skipSpecialTokens: false })).toBe('[CLS] a red stars, unbelievable. cafe [UNK] [SEP] [PAD]');
  });

  it('truncation keeps [SEP]; cased vocabularies; BLIP\'s extra special tokens', () => {
    const b = bert.encode([Array(50).fill('red').join(' ')]);
    expect(row(b, 0)[0]).toBe(id('[CLS]'));
    expect(row(b, 0)[34]).toBe(id('[SEP]'));
    const cased = bertTokenizer(bertTokens, { lowercase: false });
    expect(cased.tokenize('Red red')).toEqual(['[UNK]', 'red']);
    const blip = bertTokenizer(bertTokens, { extraSpecialTokens: ['[DEC]', '[ENC]'], maxLength: 8 });
    expect([blip.tokenToId('[DEC]'), blip.tokenToId('[ENC]'), blip.vocabSize]).toEqual([16, 17, 18]);
    expect(row(blip.encode(['[ENC] red star']), 0)).toEqual([id('[CLS]'), 17, id('red'), id('star'), id('[SEP]'), 0, 0, 0]);
    expect(() => bertTokenizer(['a', 'b'])).toThrow('Expected the WordPiece vocabulary to hold [UNK] but it does not');
  });
});

describe('the world word tokenizer', () => {
  const prompts = ['a red star and a blue ring, striped style, warm palette, side lighting, rule-of-thirds layout', 'a star without a ring'];
  const words = wordsOf(prompts);
  const tok = WordTokenizer.fromWords(words, { maxLength: 16 });

  it('specials first, words split on spaces and punctuation, hyphenated words whole', () => {
    expect(words).toContain('rule-of-thirds');
    expect(words).toContain(',');
    expect(tok.vocab.slice(0, 4)).toEqual(['[PAD]', '[CLS]', '[SEP]', '[UNK]']);
    expect(tok.vocabSize).toBe(4 + words.length);
    expect(tok.tokenize('A RED star, purple RING')).toEqual(['a', 'red', 'star', ',', '[UNK]', 'ring']);
    const b = tok.encode(['A RED star, purple RING', 'rule-of-thirds layout']);
    expect(row(b, 0)).toEqual([1, ...['a', 'red', 'star', ',', '[UNK]', 'ring'].map((w) => tok.tokenToId(w)!), 2, ...Array(8).fill(0)]);
    expect(row(b, 1).slice(0, 4)).toEqual([1, tok.tokenToId('rule-of-thirds')!, tok.tokenToId('layout')!, 2]);
    expect(tok.decode(b.ids.subarray(0, 16))).toBe('a red star, ring');
    expect(tok.decode(b.ids.subarray(0, 9), { skipSpecialTokens: false })).toBe('[CLS] a red star, [UNK] ring [SEP] [PAD]');
    expect(row(tok.encode([prompts[0] + ' ' + prompts[0]]), 0)[15]).toBe(2); // truncated, [SEP] kept
  });

  it('saves and loads its vocabulary; refuses what is not a word', () => {
    const path = join(tempDir(), 'words.txt');
    writeFileSync(path, tok.toText());
    const back = WordTokenizer.fromFile(path, { maxLength: 16 });
    expect(back.vocab).toEqual(tok.vocab);
    writeFileSync(path, 'red\nstar\n');
    expect(() => WordTokenizer.fromFile(path)).toThrow(`Expected [PAD] on line 1 of the word vocabulary ${path} but found "red"`);
    expect(() => WordTokenizer.fromWords(['red star'])).toThrow('Expected a lower-case word or a single punctuation mark for words[0] but received "red star"');
    expect(() => WordTokenizer.fromWords(['Red'])).toThrow(TreeRewardError);
    expect(() => tok.decode([999])).toThrow(`Expected ids below ${tok.vocabSize} for ids but received 999`);
  });
});

describe('one interface', () => {
  it('every tokenizer gives (B, T) ids and mask the same way', () => {
    const dir = clipDir();
    const all: Tokenizer[] = [clipTokenizerFromFiles(join(dir, 'vocab.json'), join(dir, 'merges.txt')), bertTokenizer(bertTokens), WordTokenizer.fromWords(['red', 'star'])];
    for (const t of all) {
      const b = t.encode(['red star', 'star', ''], { maxLength: 6 });
      expect([b.batch, b.length, b.ids.length, b.mask.length]).toEqual([3, 6, 18, 18]);
      expect(b.lengths).toEqual([4, 3, 2]);
      expect(row(b, 2).slice(0, 2)).toEqual([...t.prefixIds, ...t.suffixIds]);
      expect(t.decode(row(b, 0))).toBe('red star');
      expect(b.ids).toBeInstanceOf(Int32Array);
      expect(b.mask).toBeInstanceOf(Float32Array);
      const { ids, mask } = batchToTensors(b);
      expect([ids.dtype, ids.shape, mask.dtype, mask.shape]).toEqual(['int32', [3, 6], 'float32', [3, 6]]);
      expect(Array.from(ids.toArray())).toEqual(Array.from(b.ids));
      ids.dispose();
      mask.dispose();
    }
  });
});
