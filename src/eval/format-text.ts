// format-text.ts: an evaluation's tables as plain text for the terminal (`treereward eval`).
import { DIMENSIONS } from '../api/interfaces.js';
import type { EvaluationFile } from './evaluation.js';
import { formatSummary } from './stats.js';
import type { EvaluationTables } from './tables.js';

function grid(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function formatEvaluation(file: EvaluationFile, t: EvaluationTables): string {
  const out: string[] = [];
  const spread = t.groups[0]?.spreadOver ?? 'seeds';
  out.push(`${file.prompts.count} prompts (${file.prompts.source}) x ${file.seeds.length} seed(s); mean ± std over ${spread}`);
  for (const g of t.groups.filter((x) => x.standIn)) out.push(`note: ${g.label} is a ${g.standIn}`);
  out.push('', 'judges per dimension (each on the prompts stressing it, in [0, 1])');
  out.push(grid(['generator', ...DIMENSIONS, 'mean'], t.groups.map((g) => [g.label, ...DIMENSIONS.map((d) => formatSummary(g.judges[d])), formatSummary(g.judgeMean)])));
  const rewardNames = [...new Set(t.groups.flatMap((g) => Object.keys(g.rewards)))];
  out.push('', 'metrics (Table 2)');
  out.push(grid(['generator', 'CLIP score', 'aesthetic', ...rewardNames.map((r) => `reward ${r}`)], t.groups.map((g) => [
    g.label, g.clip ? formatSummary(g.clip, 2) : 'n/a', g.aesthetic ? formatSummary(g.aesthetic) : 'n/a', ...rewardNames.map((r) => (g.rewards[r] ? formatSummary(g.rewards[r]!) : 'n/a')),
  ])));
  if (file.missing.clip) out.push(`CLIP score: not computed: ${file.missing.clip}`);
  if (file.missing.aesthetic && file.missing.aesthetic !== file.missing.clip) out.push(`aesthetic score: not computed: ${file.missing.aesthetic}`);
  const labelOf = (group: string) => t.groups.find((g) => g.group === group)?.label ?? group;
  if (t.improvements.length) {
    out.push('', 'improvement over the base on [-5, 5] (Table 3): 5 x mean(judge tuned - judge base), same prompt and seed');
    out.push(grid(['generator', ...DIMENSIONS, 'mean'], t.improvements.map((i) => [labelOf(i.tuned), ...DIMENSIONS.map((d) => formatSummary(i.perDimension[d], 2)), formatSummary(i.mean, 2)])));
  }
  for (const c of t.comparisons) {
    out.push('', `win / tie / loss, ${labelOf(c.a)} vs ${labelOf(c.b)} (Fig. 7; simulated experts, per prompt)`);
    const rows = [['all prompts', c.byPrompt] as const, ...DIMENSIONS.filter((d) => c.byDimension[d]).map((d) => [d, c.byDimension[d]!] as const)];
    out.push(grid(['prompts', 'win', 'tie', 'loss', 'n'], rows.map(([label, w]) => [label, pct(w.winRate), pct(w.tieRate), pct(w.lossRate), String(w.n)])));
  }
  return out.join('\n');
}
