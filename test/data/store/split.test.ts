import { afterAll, describe, expect, it } from 'vitest';
import { normalisePrompt, splitOfPrompt } from '../../../src/data/store/split.js';
import type { PairInput } from '../../../src/data/types.js';
import { removeTempDirs, tempStore } from './helpers.js';

afterAll(removeTempDirs);

function ref(prompt: string, i: number, dimension = 'style'): PairInput {
  return {
    dimension, strategy: 's', annotator: 'a', tie: false,
    preferred: { prompt, image: { path: `/x/${i}a.png` } },
    rejected: { prompt, image: { path: `/x/${i}b.png` } },
  };
}

describe('splits by prompt', () => {
  it('puts every pair of a prompt in that prompt\'s split: no prompt in two splits', async () => {
    const store = tempStore();
    const records: PairInput[] = [];
    for (let i = 0; i < 3000; i++) records.push(ref(`prompt number ${i % 500}`, i, ['style', 'color', 'detail'][i % 3]));
    // the same prompts again, spelled with other case and spacing
    for (let i = 0; i < 500; i++) records.push(ref(`  PROMPT   number ${i}`, 10_000 + i));
    await store.insertPairs(records);
    const leaks = store.db.prepare(`SELECT lower(trim(pp.text)) AS t, count(DISTINCT p.split) AS n FROM pairs p JOIN prompts pp ON pp.id = p.preferred_prompt_id
      GROUP BY replace(replace(replace(lower(trim(pp.text)), '   ', ' '), '  ', ' '), '  ', ' ') HAVING n > 1`).all();
    expect(leaks).toEqual([]);
    const counts = Object.fromEntries((store.db.prepare('SELECT split, count(DISTINCT preferred_prompt_id) AS n FROM pairs GROUP BY split').all() as { split: string; n: number }[]).map((r) => [r.split, r.n]));
    // 1000 prompt rows (500 texts twice): about 80/10/10
    expect(counts.train).toBeGreaterThan(700);
    expect(counts.validation).toBeGreaterThan(50);
    expect(counts.test).toBeGreaterThan(50);
    store.close();
  });

  it('is a pure function of the normalised text', () => {
    expect(normalisePrompt('  A red\tstar  ')).toBe('a red star');
    expect(splitOfPrompt('A red star')).toBe(splitOfPrompt('a  red star '));
    const f = { train: 0, validation: 0, test: 1 };
    expect(splitOfPrompt('anything', f)).toBe('test');
    expect(splitOfPrompt('anything', { train: 1, validation: 0, test: 0 })).toBe('train');
  });

  it('gives a pair the split of its preferred prompt, the same in any store', async () => {
    const a = tempStore();
    const b = tempStore();
    const recs = Array.from({ length: 50 }, (_, i) => ref(`shared prompt ${i}`, i));
    await a.insertPairs(recs);
    await b.insertPairs([...recs].reverse());
    const splits = (s: typeof a) => Object.fromEntries((s.db.prepare('SELECT pp.text, p.split FROM pairs p JOIN prompts pp ON pp.id = p.preferred_prompt_id').all() as { text: string; split: string }[]).map((r) => [r.text, r.split]));
    expect(splits(a)).toEqual(splits(b));
    for (const [text, split] of Object.entries(splits(a))) expect(split).toBe(splitOfPrompt(text));
    a.close();
    b.close();
  });
});
