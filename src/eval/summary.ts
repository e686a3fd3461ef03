// summary.ts: the metric tables (the paper's Table 2 and the radar of its Fig. 1) from evaluation
// records. A generator group's figure is a mean over prompts, reported over seeds: over training
// seeds when the group has several runs, else over image seeds. Judge d is read on the prompts
// stressing dimension d (on every prompt when none does, as with a plain-text prompt file).
import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import type { EvalItem, GeneratorInfo } from './records.js';
import { groupBy, mean, overSeeds, type SeedSummary } from './stats.js';

export interface GroupSummary {
  group: string;
  label: string;
  /** Training seeds (generators) in the group. */
  runs: number;
  /** 'training seeds' or 'image seeds': what the spread is over. */
  spreadOver: 'training seeds' | 'image seeds';
  standIn?: string;
  /** Judge d on its own prompts. */
  judges: Record<Dimension, SeedSummary>;
  /** Mean of the six. */
  judgeMean: SeedSummary;
  clip?: SeedSummary;
  aesthetic?: SeedSummary;
  /** Each reward model's mean score of the group's images. */
  rewards: Record<string, SeedSummary>;
  items: number;
}

/** Items whose prompts stress `d` (all items when none does). */
export function itemsFor(items: readonly EvalItem[], d: Dimension): EvalItem[] {
  const own = items.filter((i) => i.dimension === d);
  return own.length ? own : [...items];
}

/** The unit a spread is taken over: the generator's run when a group has several, else the image seed. */
export function unitsOf(items: readonly EvalItem[], generators: readonly GeneratorInfo[]): { spreadOver: GroupSummary['spreadOver']; unit: (i: EvalItem) => number } {
  const runOf = new Map(generators.map((g) => [g.name, g.run]));
  if (generators.length > 1) return { spreadOver: 'training seeds', unit: (i) => runOf.get(i.generator) ?? 0 };
  return { spreadOver: 'image seeds', unit: (i) => i.seed };
}

/** The mean of `value` over each unit's items, summarised over units (items without a value are left out). */
export function summariseBy(items: readonly EvalItem[], unit: (i: EvalItem) => number, value: (i: EvalItem) => number | undefined): SeedSummary | undefined {
  const units = groupBy(items.filter((i) => value(i) !== undefined), unit);
  if (units.size === 0) return undefined;
  const keys = [...units.keys()].sort((a, b) => a - b);
  return overSeeds(keys.map((k) => mean(units.get(k)!.map((i) => value(i)!))));
}

export function summariseGroup(group: string, generators: readonly GeneratorInfo[], allItems: readonly EvalItem[]): GroupSummary {
  const gens = generators.filter((g) => g.group === group).sort((a, b) => a.run - b.run);
  if (gens.length === 0) throw new Error(`Expected generators of group ${JSON.stringify(group)} but received none`);
  const names = new Set(gens.map((g) => g.name));
  const items = allItems.filter((i) => names.has(i.generator));
  const { spreadOver, unit } = unitsOf(items, gens);
  const judges = {} as Record<Dimension, SeedSummary>;
  DIMENSIONS.forEach((d, k) => (judges[d] = summariseBy(itemsFor(items, d), unit, (i) => i.judges[k]) ?? overSeeds([])));
  // The six-judge mean per unit: the mean of the unit's six per-dimension means.
  const perUnit = DIMENSIONS.map((d, k) => groupBy(itemsFor(items, d), unit)).map((m, k) => new Map([...m].map(([u, list]) => [u, mean(list.map((i) => i.judges[k]!))])));
  const unitKeys = [...new Set(items.map(unit))].sort((a, b) => a - b);
  const judgeMean = overSeeds(unitKeys.map((u) => mean(perUnit.map((m) => m.get(u) ?? NaN))));
  const rewardNames = [...new Set(items.flatMap((i) => Object.keys(i.rewards ?? {})))].sort();
  const out: GroupSummary = {
    group, label: gens[0]!.label.replace(/\/seed-\d+$/, ''), runs: gens.length, spreadOver, judges, judgeMean,
    rewards: Object.fromEntries(rewardNames.map((r) => [r, summariseBy(items, unit, (i) => i.rewards?.[r])!])),
    items: items.length,
  };
  if (gens[0]!.standIn) out.standIn = gens[0]!.standIn;
  const clip = summariseBy(items, unit, (i) => i.clip);
  if (clip) out.clip = clip;
  const aesthetic = summariseBy(items, unit, (i) => i.aesthetic);
  if (aesthetic) out.aesthetic = aesthetic;
  return out;
}

/** Groups in first-seen order. */
export function groupsOf(generators: readonly GeneratorInfo[]): string[] {
  return [...new Set(generators.map((g) => g.group))];
}
