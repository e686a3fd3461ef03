// tables.ts: everything the report and `treereward eval` print, computed from an evaluation's
// records: per group the metric table (Table 2, the radar of Fig. 1), each group's improvement over
// the base (Table 3), and win / tie / loss for each compared pair of groups (Fig. 7), pooled over
// the groups' training seeds.
import type { EvaluationFile } from './evaluation.js';
import { improvement, type Improvement } from './improvement.js';
import type { ComparisonItem, EvalItem } from './records.js';
import { groupsOf, summariseGroup, type GroupSummary } from './summary.js';
import { tallyComparison, type ComparisonTally } from './win-tie-loss.js';

export interface EvaluationTables {
  groups: GroupSummary[];
  improvements: Improvement[];
  comparisons: ComparisonTally[];
}

export function evaluationTables(file: Pick<EvaluationFile, 'generators' | 'comparisons' | 'base'>, items: readonly EvalItem[], comparisonItems: readonly ComparisonItem[]): EvaluationTables {
  const groupOf = new Map(file.generators.map((g) => [g.name, g.group]));
  const groups = groupsOf(file.generators).map((g) => summariseGroup(g, file.generators, items));
  const improvements = file.base === null ? [] : groups.filter((g) => g.group !== file.base).map((g) => improvement(g.group, file.base!, file.generators, items));
  // One tally per pair of groups, in the order the comparisons were asked for.
  const pairs = new Map<string, { a: string; b: string; items: ComparisonItem[] }>();
  for (const [a, b] of file.comparisons) {
    const ga = groupOf.get(a)!, gb = groupOf.get(b)!;
    const key = `${ga}\u0000${gb}`;
    if (!pairs.has(key)) pairs.set(key, { a: ga, b: gb, items: [] });
  }
  for (const it of comparisonItems) pairs.get(`${groupOf.get(it.a)}\u0000${groupOf.get(it.b)}`)?.items.push(it);
  const comparisons = [...pairs.values()].filter((p) => p.items.length > 0).map((p) => tallyComparison(p.items, p.a, p.b));
  return { groups, improvements, comparisons };
}
