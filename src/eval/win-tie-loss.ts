// win-tie-loss.ts: win / tie / loss of one generator against another (the paper's Fig. 7). A
// simulated expert compares the two images of a prompt and seed in the prompt's dimension (a prompt
// without one: the majority of its six verdicts); outcomes are tallied per dimension, over all
// items, and per prompt (the majority of its seeds: more wins than losses is a win, as many a tie).
import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import type { ExpertChoice, ExpertSide, SimulatedExpert } from '../world/expert.js';
import type { ComparisonItem, Outcome } from './records.js';

export interface WinTieLoss {
  win: number;
  tie: number;
  loss: number;
  /** win + tie + loss */
  n: number;
  /** Shares of n (0 when n is 0). */
  winRate: number;
  tieRate: number;
  lossRate: number;
}

export function tally(outcomes: Iterable<Outcome>): WinTieLoss {
  const t = { win: 0, tie: 0, loss: 0 };
  for (const o of outcomes) {
    if (o !== 'win' && o !== 'tie' && o !== 'loss') throw new Error(`Expected win, tie or loss for an outcome but received ${JSON.stringify(o)}`);
    t[o]++;
  }
  const n = t.win + t.tie + t.loss;
  return { ...t, n, winRate: n ? t.win / n : 0, tieRate: n ? t.tie / n : 0, lossRate: n ? t.loss / n : 0 };
}

/** The majority of several outcomes: more wins than losses is a win, more losses a loss, else a tie. */
export function majority(outcomes: readonly Outcome[]): Outcome {
  let w = 0, l = 0;
  for (const o of outcomes) {
    if (o === 'win') w++;
    else if (o === 'loss') l++;
  }
  return w > l ? 'win' : l > w ? 'loss' : 'tie';
}

export function outcomeOf(choice: ExpertChoice): Outcome {
  return choice === 'first' ? 'win' : choice === 'second' ? 'loss' : 'tie';
}

/** The other side's view of an outcome. */
export function flipOutcome(o: Outcome): Outcome {
  return o === 'win' ? 'loss' : o === 'loss' ? 'win' : 'tie';
}

/**
 * The expert's verdict on a against b for a prompt stressing `dimension` (null: the majority over
 * the six dimensions). `key` seeds the expert's disagreement, so a verdict does not depend on order.
 */
export function expertOutcome(expert: SimulatedExpert, dimension: Dimension | null, a: ExpertSide, b: ExpertSide, key: number): { expert: Outcome; judge: Outcome } {
  if (dimension !== null) {
    const v = expert.annotate(dimension, a, b, key);
    return { expert: outcomeOf(v.noisy), judge: outcomeOf(v.clean) };
  }
  const all = DIMENSIONS.map((d, i) => expert.annotate(d, a, b, key + i));
  return { expert: majority(all.map((v) => outcomeOf(v.noisy))), judge: majority(all.map((v) => outcomeOf(v.clean))) };
}

export interface ComparisonTally {
  a: string;
  b: string;
  /** Over every (prompt, seed) item. */
  overall: WinTieLoss;
  /** Over prompts, each counted once by the majority of its items. */
  byPrompt: WinTieLoss;
  /** Per dimension, over prompts (majority of each prompt's items). */
  byDimension: Partial<Record<Dimension, WinTieLoss>>;
  /** The same from the judges' clean labels. */
  judgeByPrompt: WinTieLoss;
}

/** Tallies the comparison items of generators (or groups) a and b; `label` picks which outcome to count. */
export function tallyComparison(items: readonly ComparisonItem[], a: string, b: string): ComparisonTally {
  const perPrompt = new Map<string, { dimension: Dimension | null; expert: Outcome[]; judge: Outcome[] }>();
  for (const it of items) {
    const key = `${it.dimension ?? ''}\u0000${it.prompt}`;
    let p = perPrompt.get(key);
    if (!p) perPrompt.set(key, (p = { dimension: it.dimension, expert: [], judge: [] }));
    p.expert.push(it.expert);
    p.judge.push(it.judge);
  }
  const prompts = [...perPrompt.values()];
  const byDimension: Partial<Record<Dimension, WinTieLoss>> = {};
  for (const d of DIMENSIONS) {
    const of = prompts.filter((p) => p.dimension === d);
    if (of.length) byDimension[d] = tally(of.map((p) => majority(p.expert)));
  }
  return {
    a, b,
    overall: tally(items.map((i) => i.expert)),
    byPrompt: tally(prompts.map((p) => majority(p.expert))),
    byDimension,
    judgeByPrompt: tally(prompts.map((p) => majority(p.judge))),
  };
}
