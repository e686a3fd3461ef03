// prompts.test.ts: the fixed benchmark as the evaluation reads it, and users' prompt files (JSONL or
// plain text) with every bad line reported by number.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { DIMENSIONS } from '../../src/api/interfaces.js';
import { benchmarkPrompts, loadPromptFile, parsePromptFile } from '../../src/eval/prompts.js';
import { loadBenchmark } from '../../src/world/benchmark.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the benchmark', () => {
  it('gives the first n prompts of each dimension, in dimension order', () => {
    const p = benchmarkPrompts(20);
    expect(p).toHaveLength(120);
    DIMENSIONS.forEach((d, k) => expect(p.slice(20 * k, 20 * k + 20)).toEqual(loadBenchmark().prompts[d].slice(0, 20).map((prompt) => ({ prompt, dimension: d }))));
    expect(benchmarkPrompts(100)).toHaveLength(600);
    expect(() => benchmarkPrompts(101)).toThrow('Expected an integer in [1, 100] for perDimension but received 101');
  });
});

describe('prompt files', () => {
  it('reads JSONL with and without a dimension, skipping blank lines', () => {
    const text = '{"prompt": "a red star", "dimension": "color"}\n\n{"prompt": "  a blue ring "}\r\n{"prompt": "a green square", "dimension": null}\n';
    expect(parsePromptFile(text, 'p.jsonl')).toEqual([
      { prompt: 'a red star', dimension: 'color' }, { prompt: 'a blue ring', dimension: null }, { prompt: 'a green square', dimension: null },
    ]);
  });

  it('reads plain text, one prompt per line, # comments skipped', () => {
    expect(parsePromptFile('# my prompts\na red star\n\n  a blue   ring  \n', 'p.txt')).toEqual([{ prompt: 'a red star', dimension: null }, { prompt: 'a blue ring', dimension: null }]);
  });

  it('names every bad JSONL line with its number and what was wrong', () => {
    const lines = [
      '{"prompt": "a red star", "dimension": "color"}',
      '{"prompt": "a red star", "dimension": "colour"}',
      'not json',
      '{"promt": "typo"}',
      '',
      '{"prompt": ""}',
      '["a list"]',
      '{"prompt": "a red star", "dimension": "color"}',
      '{"prompt": 7}',
    ];
    expect(() => parsePromptFile(lines.join('\n'), 'bad.jsonl')).toThrow([
      'bad.jsonl line 2: Expected one of content, style, color, lighting, layout, detail (or no dimension) for dimension but received "colour"',
      'bad.jsonl line 3: Expected a JSON object {"prompt": ..., "dimension": ...} but received invalid JSON not json',
      'bad.jsonl line 4: Expected only the keys prompt, dimension but received "promt"',
      'bad.jsonl line 6: Expected a non-empty string for prompt but received ""',
      'bad.jsonl line 7: Expected a JSON object {"prompt": ..., "dimension": ...} but received ["a list"]',
      'bad.jsonl line 8: Expected each prompt once but received a repeat of line 1',
      'bad.jsonl line 9: Expected a non-empty string for prompt but received 7',
    ].join('\n'));
  });

  it('names JSON lines in a plain-text file, an empty file, and an unreadable one', () => {
    expect(() => parsePromptFile('a red star\n{"prompt": "a blue ring"}\na red star\n', 'p.txt')).toThrow(
      'p.txt line 2: Expected a plain-text prompt (the file is plain text: its first prompt line is not JSON) but received a JSON object\np.txt line 3: Expected each prompt once but received a repeat of line 1',
    );
    expect(() => parsePromptFile('\n# nothing\n', 'empty.txt')).toThrow('Expected at least one prompt in empty.txt but received none');
    expect(() => loadPromptFile(join(dir, 'absent.txt'))).toThrow(`Expected a readable prompt file at ${join(dir, 'absent.txt')} but ENOENT`);
  });

  it('shows the first ten bad lines and counts the rest', () => {
    const text = Array.from({ length: 13 }, () => '{"prompt": 1}').join('\n');
    const message = (() => {
      try {
        parsePromptFile(text, 'many.jsonl');
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message.split('\n')).toHaveLength(11);
    expect(message.endsWith('... and 3 more bad lines')).toBe(true);
  });

  it('loads a file from disk', () => {
    const file = join(dir, 'mine.jsonl');
    writeFileSync(file, '{"prompt": "a red star", "dimension": "content"}\n');
    expect(loadPromptFile(file)).toEqual([{ prompt: 'a red star', dimension: 'content' }]);
  });
});
