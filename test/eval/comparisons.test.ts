// comparisons.test.ts: the arithmetic of the comparisons on hand-made records: win / tie / loss
// tallies, majorities per prompt, improvement on [-5, 5] with its spread over seeds, the metric
// summary's units, and the simulated expert's verdicts on images that do and do not differ.
import { describe, expect, it } from 'vitest';

import type { Dimension } from '../../src/api/interfaces.js';
import { improvement } from '../../src/eval/improvement.js';
import type { ComparisonItem, EvalItem, GeneratorInfo, Outcome } from '../../src/eval/records.js';
import { overSeeds } from '../../src/eval/stats.js';
import { summariseGroup } from '../../src/eval/summary.js';
import { evaluationTables } from '../../src/eval/tables.js';
import { expertOutcome, majority, tally, tallyComparison } from '../../src/eval/win-tie-loss.js';
import { SimulatedExpert } from '../../src/world/expert.js';
import { WorldGenerator } from '../../src/world/world-generator.js';

const cmp = (prompt: string, dimension: Dimension | null, seed: number, expert: Outcome, judge: Outcome = expert): ComparisonItem => ({ a: 'A', b: 'B', prompt, dimension, seed, expert, judge });

describe('win / tie / loss', () => {
  it('tallies outcomes and their shares', () => {
    expect(tally(['win', 'win', 'tie', 'loss'])).toEqual({ win: 2, tie: 1, loss: 1, n: 4, winRate: 0.5, tieRate: 0.25, lossRate: 0.25 });
    expect(tally([])).toEqual({ win: 0, tie: 0, loss: 0, n: 0, winRate: 0, tieRate: 0, lossRate: 0 });
    expect(() => tally(['draw' as Outcome])).toThrow('Expected win, tie or loss for an outcome but received "draw"');
  });

  it('takes the majority of a prompt\'s seeds: more wins than losses wins, as many ties', () => {
    expect(majority(['win', 'loss', 'win'])).toBe('win');
    expect(majority(['win', 'tie', 'tie'])).toBe('win');
    expect(majority(['loss', 'tie', 'win', 'loss'])).toBe('loss');
    expect(majority(['win', 'loss'])).toBe('tie');
    expect(majority(['tie'])).toBe('tie');
  });

  it('counts a prompt once per dimension and overall, and every item in "overall"', () => {
    const items = [
      cmp('p1', 'color', 0, 'win'), cmp('p1', 'color', 1, 'win'), cmp('p1', 'color', 2, 'loss'), // p1: win
      cmp('p2', 'color', 0, 'loss'), cmp('p2', 'color', 1, 'tie', 'win'), // p2: loss (judge: tie)
      cmp('p3', 'style', 0, 'tie'), cmp('p3', 'style', 1, 'tie'), // p3: tie
      cmp('p4', 'style', 0, 'win'), // p4: win
      cmp('p5', null, 0, 'win', 'loss'), // no dimension: overall only
    ];
    const t = tallyComparison(items, 'A', 'B');
    expect(t.overall).toMatchObject({ win: 4, tie: 3, loss: 2, n: 9 });
    expect(t.byPrompt).toMatchObject({ win: 3, tie: 1, loss: 1, n: 5 });
    expect(t.byDimension.color).toMatchObject({ win: 1, tie: 0, loss: 1, n: 2 });
    expect(t.byDimension.style).toMatchObject({ win: 1, tie: 1, loss: 0, n: 2 });
    expect(t.byDimension.layout).toBeUndefined();
    expect(t.judgeByPrompt).toMatchObject({ win: 2, tie: 2, loss: 1 });
  });

  it('the simulated expert: identical images tie, a degraded image loses in its dimension', () => {
    const world = new WorldGenerator();
    const prompt = 'a red star and a blue ring, striped style, warm palette, side lighting, rule-of-thirds layout, intricate detail';
    const clean = world.render(prompt, 4).image;
    const blurred = world.render(prompt, 4, { quality: 0.2, degrade: ['detail'] }).image;
    const expert = new SimulatedExpert({ flipRate: 0, tieBand: 0.02 });
    expect(expertOutcome(expert, 'detail', { prompt, image: clean }, { prompt, image: clean }, 1)).toEqual({ expert: 'tie', judge: 'tie' });
    expect(expertOutcome(expert, 'detail', { prompt, image: clean }, { prompt, image: blurred }, 2)).toEqual({ expert: 'win', judge: 'win' });
    expect(expertOutcome(expert, 'detail', { prompt, image: blurred }, { prompt, image: clean }, 3)).toEqual({ expert: 'loss', judge: 'loss' });
    // a prompt without a dimension: the majority over the six (only detail differs: detail decides)
    expect(expertOutcome(expert, null, { prompt, image: clean }, { prompt, image: blurred }, 4).judge).toBe('win');
    // an expert who always disagrees turns the clean label around
    const contrary = new SimulatedExpert({ flipRate: 1, tieBand: 0.02 });
    expect(expertOutcome(contrary, 'detail', { prompt, image: clean }, { prompt, image: blurred }, 5)).toEqual({ expert: 'loss', judge: 'win' });
  });
});

/** Judge vectors with `v` in dimension d (DIMENSIONS order) and 0.5 elsewhere. */
const judges = (d: number, v: number) => Array.from({ length: 6 }, (_, k) => (k === d ? v : 0.5));
const item = (generator: string, prompt: string, dimension: Dimension, seed: number, vector: number[], extra: Partial<EvalItem> = {}): EvalItem => ({ generator, prompt, dimension, seed, judges: vector, ...extra });

describe('improvement on [-5, 5]', () => {
  const gens: GeneratorInfo[] = [
    { name: 'base', group: 'base', run: 0, spec: 'world:quality=0.5', label: 'base' },
    { name: 'tuned', group: 'tuned', run: 0, spec: 'world:quality=0.7', label: 'tuned' },
  ];
  // color (index 2): two prompts, two seeds
  const items: EvalItem[] = [
    item('base', 'c1', 'color', 0, judges(2, 0.2)), item('tuned', 'c1', 'color', 0, judges(2, 0.6)), // +0.4
    item('base', 'c2', 'color', 0, judges(2, 0.5)), item('tuned', 'c2', 'color', 0, judges(2, 0.5)), // 0
    item('base', 'c1', 'color', 1, judges(2, 0.3)), item('tuned', 'c1', 'color', 1, judges(2, 0.5)), // +0.2
    item('base', 'c2', 'color', 1, judges(2, 0.6)), item('tuned', 'c2', 'color', 1, judges(2, 0.4)), // -0.2
    // style (index 1): one prompt, the tuned image worse
    item('base', 's1', 'style', 0, judges(1, 1)), item('tuned', 's1', 'style', 0, judges(1, 0)),
    item('base', 's1', 'style', 1, judges(1, 1)), item('tuned', 's1', 'style', 1, judges(1, 0)),
  ];

  it('is 5 x the mean judge difference over the dimension\'s prompts, spread over image seeds', () => {
    const imp = improvement('tuned', 'base', gens, items);
    // seed 0: 5 * mean(0.4, 0) = 1; seed 1: 5 * mean(0.2, -0.2) = 0
    expect(imp.perDimension.color.values.map((v) => Number(v.toFixed(10)))).toEqual([1, 0]);
    expect(imp.perDimension.color.mean).toBeCloseTo(0.5);
    expect(imp.perDimension.color.std).toBeCloseTo(Math.SQRT1_2);
    expect(imp.perDimension.style.values).toEqual([-5, -5]);
    expect(imp.pairs).toBe(6);
    // content has no prompts of its own here: its judge is read on every prompt (0.5 - 0.5)
    expect(imp.perDimension.content.mean).toBe(0);
  });

  it('spreads over training seeds when the tuned group has several runs', () => {
    const two: GeneratorInfo[] = [gens[0]!, { ...gens[1]!, name: 'tuned/seed-0' }, { ...gens[1]!, name: 'tuned/seed-1', run: 1 }];
    const runItems = [
      ...items.filter((i) => i.generator === 'base'),
      ...items.filter((i) => i.generator === 'tuned').map((i) => ({ ...i, generator: 'tuned/seed-0' })),
      ...items.filter((i) => i.generator === 'tuned').map((i) => ({ ...i, generator: 'tuned/seed-1', judges: i.judges.map((v, k) => (k === 2 ? v + 0.1 : v)) })),
    ];
    const imp = improvement('tuned', 'base', two, runItems);
    // run 0 pools its seeds: 5 * mean(0.4, 0, 0.2, -0.2) = 0.5; run 1 adds 0.1 to each: 1.0
    expect(imp.perDimension.color.values.map((v) => Number(v.toFixed(10)))).toEqual([0.5, 1]);
    expect(summariseGroup('tuned', two, runItems).spreadOver).toBe('training seeds');
  });

  it('goes with the metric summary and the comparison tallies in one set of tables', () => {
    const withScores = items.map((i) => ({ ...i, clip: i.generator === 'base' ? 20 : 30, rewards: { tree: i.seed } }));
    const g = summariseGroup('base', gens, withScores);
    expect(g.spreadOver).toBe('image seeds');
    expect(g.judges.color).toEqual(overSeeds([(0.2 + 0.5) / 2, (0.3 + 0.6) / 2]));
    expect(g.clip).toEqual(overSeeds([20, 20]));
    expect(g.rewards.tree).toEqual(overSeeds([0, 1]));
    expect(g.aesthetic).toBeUndefined();
    const t = evaluationTables({ generators: gens, comparisons: [['tuned', 'base']], base: 'base' }, withScores, [{ ...cmp('c1', 'color', 0, 'win'), a: 'tuned', b: 'base' }]);
    expect(t.groups.map((x) => x.group)).toEqual(['base', 'tuned']);
    expect(t.improvements.map((x) => x.tuned)).toEqual(['tuned']);
    expect(t.comparisons[0]).toMatchObject({ a: 'tuned', b: 'base', byPrompt: { win: 1, n: 1 } });
  });
});
