// The fixed benchmark: 100 prompts per dimension, reproducible from its recorded seed, each naming its
// dimension's attribute; training prompts never coincide with a benchmark prompt.
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../../src/api/interfaces.js';
import { generateBenchmark, isBenchmarkPrompt, loadBenchmark, trainingPrompt } from '../../src/world/benchmark.js';
import { parsePromptStrict } from '../../src/world/prompt/index.js';

describe('benchmark prompts', () => {
  it('hold 100 distinct parseable prompts per dimension, each naming that dimension', () => {
    const b = loadBenchmark();
    const all = DIMENSIONS.flatMap((d) => b.prompts[d]);
    expect(all.length).toBe(600);
    expect(new Set(all).size).toBe(600);
    for (const d of DIMENSIONS) {
      expect(b.prompts[d].length).toBe(100);
      for (const p of b.prompts[d]) {
        const req = parsePromptStrict(p);
        expect(req.objects.length).toBeGreaterThan(0);
        const named = { content: req.objects.every((o) => o.color), style: req.style, color: req.palette, lighting: req.lighting, layout: req.layout, detail: req.detail }[d];
        expect(named, `${d}: ${p}`).toBeTruthy();
      }
    }
  });

  it('are exactly what the recorded command regenerates', () => {
    const b = loadBenchmark();
    expect(b.command).toContain(`--seed ${b.seed}`);
    expect(generateBenchmark(b.seed, b.perDimension).prompts).toEqual(b.prompts);
  });

  it('never coincide with training prompts', () => {
    let checked = 0;
    for (const d of DIMENSIONS) {
      for (let s = 0; s < 800; s++) {
        expect(isBenchmarkPrompt(trainingPrompt(d, s))).toBe(false);
        checked++;
      }
    }
    // The draws that would have hit the benchmark do exist (short prompts repeat), so the redraw matters.
    const b = loadBenchmark();
    expect(isBenchmarkPrompt(b.prompts.content[0]!)).toBe(true);
    expect(checked).toBe(4800);
  });
});
