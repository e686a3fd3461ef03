// suite.test.ts: the evaluation suite: deterministic records, a stopped evaluation resumes at its
// first missing chunk with the same records as a straight run, a resume file made with other
// settings is refused, and generator specs parse with errors that say what was expected.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { parseGeneratorSpec } from '../../src/eval/generator-spec.js';
import { benchmarkPrompts } from '../../src/eval/prompts.js';
import type { GeneratorInfo } from '../../src/eval/records.js';
import { evaluateSuite, type SuiteOptions } from '../../src/eval/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-suite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const generators: GeneratorInfo[] = [
  { name: 'base', group: 'base', run: 0, spec: 'world:quality=0.4', label: 'base' },
  { name: 'tuned', group: 'tuned', run: 0, spec: 'world:quality=0.8', label: 'tuned' },
];
const options = (extra: Partial<SuiteOptions> = {}): SuiteOptions => ({
  generators, prompts: benchmarkPrompts(2), seeds: [0, 1], comparisons: [['tuned', 'base']], chunkSize: 4, expert: { flipRate: 0.1, seed: 3 }, ...extra,
});

describe('evaluation suite', () => {
  it('resumes a stopped evaluation with the records a straight run makes', async () => {
    const straight = await evaluateSuite(options());
    expect(straight.chunks).toBe(6); // 12 prompts in chunks of 4, two seeds
    expect(straight.items).toHaveLength(12 * 2 * 2);
    expect(straight.comparisons).toHaveLength(12 * 2);
    expect(straight.items.every((i) => i.judges.length === 6 && i.judges.every((v) => v >= 0 && v <= 1))).toBe(true);
    const file = join(dir, 'chunks.jsonl');
    const stop = new AbortController();
    await expect(evaluateSuite(options({ resumeFile: file, signal: stop.signal, onProgress: (done) => done === 4 && stop.abort() }))).rejects.toThrow(
      'Expected the evaluation to run to the end but it was aborted (signal); a rerun resumes it',
    );
    // a kill in the middle of writing leaves half a line: that chunk is computed again
    writeFileSync(file, readFileSync(file, 'utf8') + '{"chunk": 2, "items": [');
    const resumed = await evaluateSuite(options({ resumeFile: file }));
    expect(resumed.computed).toBe(4);
    expect(resumed.items).toEqual(straight.items);
    expect(resumed.comparisons).toEqual(straight.comparisons);
    const again = await evaluateSuite(options({ resumeFile: file }));
    expect(again.computed).toBe(0);
    expect(again.items).toEqual(straight.items);
    await expect(evaluateSuite(options({ resumeFile: file, seeds: [0] }))).rejects.toThrow(
      `Expected ${file} to hold an evaluation with the same settings (generators, prompts, seeds, metrics) but it was made with others; remove it to start the evaluation again`,
    );
  });

  it('checks its inputs', async () => {
    await expect(evaluateSuite(options({ comparisons: [['tuned', 'other']] }))).rejects.toThrow('Expected generator names for comparison [tuned, other] but received one not being evaluated');
    await expect(evaluateSuite(options({ generators: [generators[0]!, generators[0]!] }))).rejects.toThrow('Expected distinct generator names for generators but received a repeat');
  });
});

describe('generator specs', () => {
  it('parse the world renderer at a quality, steps and degraded dimensions', () => {
    expect(parseGeneratorSpec('world')).toMatchObject({ kind: 'world', quality: 1, label: 'world@q1' });
    expect(parseGeneratorSpec('world:quality=0.6')).toMatchObject({ kind: 'world', quality: 0.6, label: 'world@q0.6' });
    expect(parseGeneratorSpec('world:quality=0.5,steps=20,degrade=color+lighting')).toMatchObject({ quality: 0.5, steps: 20, degrade: ['color', 'lighting'] });
  });

  it('say what was expected', () => {
    expect(() => parseGeneratorSpec('world:quality=2')).toThrow('Expected a number in [0, 1] for quality in "world:quality=2" but received "2"');
    expect(() => parseGeneratorSpec('world:qualty=0.5')).toThrow('Expected quality, steps or degrade in "world:qualty=0.5" but received "qualty"');
    expect(() => parseGeneratorSpec('world:degrade=colour')).toThrow('Expected dimensions from content, style, color, lighting, layout, detail (joined by +) for degrade in "world:degrade=colour" but received "colour"');
    expect(() => parseGeneratorSpec('world:')).toThrow('Expected "world" or "world:key=value,..." for --model but received "world:"');
    expect(() => parseGeneratorSpec(join(dir, 'nothing'), '--base')).toThrow(`Expected a diffusion model directory or world[:quality=Q] for --base but received ${JSON.stringify(join(dir, 'nothing'))} (no such directory)`);
  });
});
