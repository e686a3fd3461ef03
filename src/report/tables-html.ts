// tables-html.ts: the report's tables as HTML: the metric table (the paper's Table 2, with spread
// over seeds), the improvement table on the [-5, 5] scale (Table 3), the judges per dimension (the
// radar's numbers), the reward models' held-out accuracy, and the run's stages.
import { DIMENSIONS } from '../api/interfaces.js';
import type { Improvement } from '../eval/improvement.js';
import type { RewardRun } from '../eval/run/stages/reward-stage.js';
import type { StageRecord } from '../eval/run/run-dir.js';
import type { SeedSummary } from '../eval/stats.js';
import { mean, overSeeds } from '../eval/stats.js';
import type { GroupSummary } from '../eval/summary.js';
import { esc } from './svg/svg-doc.js';

export function cell(s: SeedSummary | undefined, digits = 3, options: { signed?: boolean } = {}): string {
  if (!s || !Number.isFinite(s.mean)) return '<td class="num na">—</td>';
  const v = `${options.signed && s.mean > 0 ? '+' : ''}${s.mean.toFixed(digits)}`;
  const spread = s.std === null ? '' : ` <span class="spread">± ${s.std.toFixed(digits)}</span>`;
  const tone = options.signed ? (s.mean > 0 ? ' pos' : s.mean < 0 ? ' neg' : '') : '';
  return `<td class="num${tone}" title="${esc(`${s.n} seed${s.n === 1 ? '' : 's'}: ${s.values.map((x) => x.toFixed(digits)).join(', ')}`)}">${v}${spread}</td>`;
}

export function table(id: string, head: string[], rows: string[][], caption?: string): string {
  return `<div class="table-wrap"><table class="data" id="${esc(id)}">${caption ? `<caption>${caption}</caption>` : ''}<thead><tr>${head.map((h, i) => `<th${i ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table></div>`;
}

const name = (g: GroupSummary) => `<th scope="row">${esc(g.label)}</th>`;

/** Table 2: CLIP score, aesthetic score, the judges' mean and each reward model's score, per generator. */
export function metricTable(groups: readonly GroupSummary[], rewardNames: readonly string[]): string {
  const head = ['generator', 'CLIP score', 'aesthetic score', 'judges (mean of 6)', ...rewardNames.map((r) => `reward: ${esc(r)}`)];
  const rows = groups.map((g) => [name(g), cell(g.clip, 2), cell(g.aesthetic, 3), cell(g.judgeMean), ...rewardNames.map((r) => cell(g.rewards[r]))]);
  return table('table-metrics', head, rows);
}

/** The judges per dimension per generator (the radar's numbers). */
export function judgeTable(groups: readonly GroupSummary[]): string {
  return table('table-judges', ['generator', ...DIMENSIONS, 'mean'], groups.map((g) => [name(g), ...DIMENSIONS.map((d) => cell(g.judges[d])), cell(g.judgeMean)]));
}

/** Table 3: improvement over the base on [-5, 5]. */
export function improvementTable(improvements: readonly Improvement[], labelOf: (group: string) => string): string {
  return table('table-improvement', ['tuned generator', ...DIMENSIONS, 'mean'], improvements.map((i) => [
    `<th scope="row">${esc(labelOf(i.tuned))}</th>`, ...DIMENSIONS.map((d) => cell(i.perDimension[d], 2, { signed: true })), cell(i.mean, 2, { signed: true }),
  ]));
}

/** Held-out pairwise accuracy of the reward models, per variant (mean over training seeds). */
export function rewardAccuracyTable(runs: readonly RewardRun[]): string {
  const variants = [...new Set(runs.map((r) => r.variant))];
  const pct = (xs: number[]) => {
    const s = overSeeds(xs.map((x) => 100 * x));
    return cell(s, 1);
  };
  const rows = variants.map((v) => {
    const of = runs.filter((r) => r.variant === v);
    const dims = DIMENSIONS.map((d) => pct(of.map((r) => r.accuracy.clean.perDimension[d]?.accuracy ?? NaN).filter(Number.isFinite)));
    const routing = of.map((r) => r.accuracy.routing).filter((x): x is number => x !== undefined);
    return [
      `<th scope="row">${esc(v)}</th>`, ...dims, pct(of.map((r) => r.accuracy.clean.mean)), pct(of.map((r) => r.accuracy.noisy.mean)),
      routing.length ? pct(routing) : '<td class="num na">—</td>',
      `<td class="num">${(mean(of.map((r) => r.parameters)) / 1e6).toFixed(2)} M</td>`,
    ];
  });
  const pairs = runs[0]?.accuracy.clean.pairs ?? 0;
  return table('table-rewards', ['reward model', ...DIMENSIONS, 'mean', 'mean, expert labels', 'routing', 'parameters'], rows,
    `Pairwise accuracy in %, held-out test split (${pairs} untied pairs with judge labels; per dimension and mean against the judges' clean labels, then the mean against the simulated experts' noisy labels). Ties skipped, a predicted tie counts as wrong (ImageReward's protocol). Routing: how often the tree's internal nodes pick the pair's branch.`);
}

const STATUS_TEXT: Record<string, string> = { done: 'done', waiting: 'waiting', pending: 'not run', running: 'running', stopped: 'stopped', failed: 'failed' };

export function stageTable(stages: readonly StageRecord[]): string {
  const rows = stages.map((s, i) => [
    `<td class="num">${i + 1}</td>`,
    `<th scope="row">${esc(s.title)}</th>`,
    s.name === 'report' && s.status === 'running'
      ? '<td><span class="badge done">this page</span></td>'
      : `<td><span class="badge ${esc(s.status)}">${STATUS_TEXT[s.status] ?? esc(s.status)}</span></td>`,
    `<td class="num">${s.seconds ? `${s.seconds.toFixed(0)} s` : '—'}</td>`,
    `<td class="what">${esc(s.status === 'done' ? (s.summary ?? '') : (s.reason ?? ''))}</td>`,
  ]);
  return `<table class="data stages" id="table-stages"><thead><tr><th class="num">#</th><th>stage</th><th>status</th><th class="num">time</th><th>result</th></tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
}
