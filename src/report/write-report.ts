// write-report.ts: `treereward report RUN_DIR`: reads the run's manifest and what its stages left
// (the evaluation records, the reward models' accuracy and training logs, ReFL's logs, and A/B sets
// people labelled in the annotation app) and writes report/index.html, self-contained, with the
// same figures as PNG in report/figures/. A section whose inputs do not exist says so in place of
// its figure; no number is made up.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { DIMENSIONS } from '../api/interfaces.js';
import { abSetTally } from '../eval/ab-results.js';
import { EVALUATION_FILE, readEvaluationRecords, type EvaluationFile } from '../eval/evaluation.js';
import { IMPROVEMENT_SCALE } from '../eval/improvement.js';
import { doneOutputs, readJsonl, readManifest, readRunJson, stageRecord, type RunManifest } from '../eval/run/run-dir.js';
import type { LogLine } from '../eval/run/reward-training.js';
import type { ReflOutputs } from '../eval/run/stages/refl-stage.js';
import type { RewardOutputs } from '../eval/run/stages/reward-stage.js';
import { evaluationTables, type EvaluationTables } from '../eval/tables.js';
import type { ComparisonTally } from '../eval/win-tie-loss.js';
import { svgToPng } from './figures.js';
import { buildGrids, gridHtml, gridSvg } from './image-grid.js';
import { missingNotice, page, type PageSection } from './page.js';
import { lineChart, type LineSeries } from './svg/line-chart.js';
import { radarChart } from './svg/radar.js';
import { esc } from './svg/svg-doc.js';
import { winTieLossBars, type WtlRow } from './svg/wtl-bars.js';
import { improvementTable, judgeTable, metricTable, rewardAccuracyTable, stageTable } from './tables-html.js';

export const REPORT_DIR = 'report';

export interface ReportOptions {
  /** Where to write (defaults to RUN_DIR/report). */
  out?: string;
  /** A/B sets labelled by people in the annotation app: { store: feedback store dir, set: set name }. */
  ab?: { store: string; set: string }[];
}

export interface ReportSectionInfo {
  id: string;
  title: string;
  /** False when the section shows a notice instead of its figure. */
  shown: boolean;
  reason?: string;
}

export interface ReportResult {
  html: string;
  figures: string[];
  sections: ReportSectionInfo[];
}

interface Figure {
  name: string;
  svg: string;
}

/** Why a stage's outputs are missing, in words. */
function whyMissing(m: RunManifest, stage: string): string {
  const s = stageRecord(m, stage);
  if (!s) return `this run has no ${stage} stage`;
  if (s.status === 'waiting') return `waiting: ${s.reason}`;
  if (s.status === 'pending') return `the ${s.title} stage has not run yet`;
  return `the ${s.title} stage is ${s.status}${s.reason ? `: ${s.reason}` : ''}`;
}

function figure(fig: Figure, figures: Figure[]): string {
  figures.push(fig);
  return `<div class="figure" data-figure="${esc(fig.name)}">${fig.svg.replace(/^<svg /, '<svg class="chart" ')}</div>`;
}

function wtlRows(c: ComparisonTally, labelOf: (g: string) => string): WtlRow[] {
  const row = (label: string, t: ComparisonTally['byPrompt'], heading?: string): WtlRow => ({ label, win: t.win, tie: t.tie, loss: t.loss, total: t.n, ...(heading ? { heading } : {}) });
  return [row('all prompts', c.byPrompt, `${labelOf(c.a)} vs ${labelOf(c.b)}`), ...DIMENSIONS.filter((d) => c.byDimension[d]).map((d) => row(d, c.byDimension[d]!))];
}

export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const m = readManifest(runDir);
  const out = options.out ?? join(runDir, REPORT_DIR);
  const figures: Figure[] = [];
  const sections: PageSection[] = [];
  const info: ReportSectionInfo[] = [];
  const add = (s: PageSection, shown: boolean, reason?: string) => {
    sections.push(s);
    info.push({ id: s.id, title: s.title, shown, ...(reason ? { reason } : {}) });
  };

  // What the stages left.
  const evalOut = doneOutputs<{ evaluation: string }>(m, 'evaluate');
  let evaluation: EvaluationFile | undefined;
  let tables: EvaluationTables | undefined;
  if (evalOut) {
    evaluation = readRunJson<EvaluationFile>(runDir, evalOut.evaluation ?? EVALUATION_FILE);
    const records = readEvaluationRecords(runDir, evaluation);
    tables = evaluationTables(evaluation, records.items, records.comparisonItems);
  }
  const evalMissing = whyMissing(m, 'evaluate');
  const rewards = doneOutputs<RewardOutputs>(m, 'rewards');
  const refl = doneOutputs<ReflOutputs>(m, 'refl');
  const labelOf = (group: string) => tables?.groups.find((g) => g.group === group)?.label ?? group;
  const standIns = evaluation?.generators.filter((g) => g.standIn) ?? [];

  // 1. The run
  const facts = [
    ['mode', `${esc(m.mode)} (seed ${m.seed})`],
    ['command', `<code>${esc(m.command)}</code>`],
    ...(rewards ? [['reward backbone', esc(rewards.backbone)]] : []),
    ...(evaluation ? [['prompts', esc(`${evaluation.prompts.count}: ${evaluation.prompts.source}`)], ['seeds', esc(`${evaluation.seeds.length} image seed${evaluation.seeds.length === 1 ? '' : 's'} per prompt`)]] : []),
    ...(evaluation ? [['win / tie / loss by', esc(`simulated experts (judges with ${(100 * evaluation.expert.flipRate).toFixed(0)}% disagreement, tie band ${evaluation.expert.tieBand})`)]] : []),
  ];
  const banner = standIns.length
    ? `<div class="callout" id="stand-in-note"><strong>Stand-in generators.</strong>${esc(`The generators evaluated here are the world renderer at fixed qualities (${standIns.map((g) => `${g.name}: ${g.spec}`).join('; ')}), standing in for the base generator and a ReFL-tuned one, which do not exist yet (${whyMissing(m, 'refl')}). The evaluation, tables and figures are computed for real on their images; the difference between them is the renderer's quality setting, not the effect of feedback learning.`)}</div>`
    : '';
  add({
    id: 'summary', title: 'The run',
    lede: 'What ran, how long each stage took, and what each stage produced or is waiting for.',
    body: `${banner}<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>${stageTable(m.stages)}`,
  }, true);

  // 2. Radar over the six dimensions (Fig. 1)
  if (tables) {
    const series = tables.groups.map((g) => ({ label: g.label, key: g.group, values: DIMENSIONS.map((d) => g.judges[d].mean), spread: DIMENSIONS.map((d) => g.judges[d].std) }));
    add({
      id: 'radar', title: 'Six dimensions', paper: 'Fig. 1',
      lede: `Each axis is the judge of one dimension, averaged over the benchmark prompts that stress it (judge scores in [0, 1]; the radial range is zoomed to the data, rings are labelled). Spread over ${esc(tables.groups[0]?.spreadOver ?? 'seeds')} in the table.`,
      body: `<div class="row">${figure({ name: 'fig1-radar', svg: radarChart(DIMENSIONS, series, 'Judge scores per dimension') }, figures)}</div>${judgeTable(tables.groups)}`,
    }, true);
  } else add({ id: 'radar', title: 'Six dimensions', paper: 'Fig. 1', body: missingNotice('The radar chart', evalMissing) }, false, evalMissing);

  // 3. Improvement over the base (Table 3)
  if (tables && tables.improvements.length) {
    add({
      id: 'improvement', title: 'Improvement over the base', paper: 'Table 3',
      lede: `Per dimension, ${IMPROVEMENT_SCALE} &times; the mean over the prompts stressing it of (judge score of the tuned image &minus; judge score of the base image, same prompt and seed): on the paper's [&minus;5, 5] scale, +5 means every image went from the worst to the best judge score, 0 no change.`,
      body: improvementTable(tables.improvements, labelOf),
    }, true);
  } else {
    const reason = tables ? 'the evaluation has no base generator to compare with' : evalMissing;
    add({ id: 'improvement', title: 'Improvement over the base', paper: 'Table 3', body: missingNotice('The improvement table', reason) }, false, reason);
  }

  // 4. Win / tie / loss (Fig. 7), by experts and by people
  const people = (options.ab ?? []).map((ab) => abSetTally(ab.store, ab.set));
  if ((tables && tables.comparisons.length) || people.length) {
    const parts: string[] = [];
    if (tables?.comparisons.length) {
      const rows = tables.comparisons.flatMap((c) => wtlRows(c, labelOf));
      parts.push(figure({ name: 'fig7-win-tie-loss', svg: winTieLossBars(rows, 'Win / tie / loss by simulated experts') }, figures));
    }
    for (const [k, p] of people.entries()) {
      parts.push(`<p class="lede">${esc(`People, A/B set "${p.set}": ${p.annotators} annotator(s), ${p.labelledPrompts} prompts labelled (majority per prompt).`)}</p>`);
      parts.push(figure({ name: `fig7-people-${k + 1}`, svg: winTieLossBars(wtlRows(p, (g) => g), `Win / tie / loss by people (${p.set})`) }, figures));
    }
    add({
      id: 'win-tie-loss', title: 'Win / tie / loss', paper: 'Fig. 7',
      lede: 'For each prompt the two generators\' images (same seed) are compared in the prompt\'s dimension; a prompt counts once, by the majority over its seeds. The first generator\'s side: win means it was preferred.',
      body: parts.join(''),
    }, true);
  } else {
    const reason = tables ? 'the evaluation compared no generators' : evalMissing;
    add({ id: 'win-tie-loss', title: 'Win / tie / loss', paper: 'Fig. 7', body: missingNotice('The win / tie / loss bars', reason) }, false, reason);
  }

  // 5. Metric table (Table 2)
  if (tables && evaluation) {
    const notes = [evaluation.missing.clip && `CLIP score: ${evaluation.missing.clip}.`, evaluation.missing.aesthetic && evaluation.missing.aesthetic !== evaluation.missing.clip && `Aesthetic score: ${evaluation.missing.aesthetic}.`].filter(Boolean) as string[];
    add({
      id: 'metrics', title: 'Metrics', paper: 'Table 2',
      lede: `CLIP score is max(100 &times; cos, 0) of the image and prompt embeddings${evaluation.clipSource ? ` (${esc(evaluation.clipSource)})` : ''}; aesthetic score the LAION predictor's MLP on the CLIP image embedding; the reward columns are each trained reward model's own mean score. Mean &plusmn; standard deviation over ${esc(tables.groups[0]?.spreadOver ?? 'seeds')}.`,
      body: `${notes.map((n) => missingNotice(n.split(':')[0]!, n.slice(n.indexOf(':') + 2))).join('')}${metricTable(tables.groups, evaluation.rewardModels)}`,
    }, true);
  } else add({ id: 'metrics', title: 'Metrics', paper: 'Table 2', body: missingNotice('The metric table', evalMissing) }, false, evalMissing);

  // 6. Reward models
  if (rewards && rewards.runs.length) {
    add({
      id: 'rewards', title: 'Reward models', paper: 'Table 4 (reward side)',
      lede: `Each reward model trained for ${rewards.steps} steps of ${rewards.batchSize} pairs on the run's feedback pairs. Backbone: ${esc(rewards.backbone)}.`,
      body: rewardAccuracyTable(rewards.runs),
    }, true);
  } else {
    const reason = whyMissing(m, 'rewards');
    add({ id: 'rewards', title: 'Reward models', paper: 'Table 4 (reward side)', body: missingNotice('The reward accuracy table', reason) }, false, reason);
  }

  // 7. Training curves: reward models, then ReFL
  const curveParts: string[] = [];
  if (rewards) {
    const series: LineSeries[] = [];
    for (const r of rewards.runs.filter((x) => x.seed === 0)) {
      const lines = readJsonl<LogLine>(join(runDir, r.log));
      const members = [...new Set(lines.map((l) => l.member))];
      // A decoupled model's members train one after another: their steps are laid end to end.
      let offset = 0;
      const points: [number, number][] = [];
      for (const mem of members) {
        const of = lines.filter((l) => l.member === mem);
        for (const l of of) points.push([offset + l.step, l.loss]);
        offset += of.length ? of[of.length - 1]!.step : 0;
      }
      if (points.length) series.push({ label: r.variant, key: r.variant, points });
    }
    if (series.length) curveParts.push(figure({ name: 'curves-reward-training', svg: lineChart(series, { title: 'Reward model training loss', xLabel: 'optimizer step', yLabel: 'loss' }) }, figures));
  }
  if (refl && refl.tuned.length) {
    const lines = refl.tuned.filter((t) => t.seed === 0).map((t) => ({ t, lines: readJsonl<Record<string, number>>(join(runDir, t.log)) }));
    const rewardSeries = lines.map(({ t, lines: l }) => ({ label: t.variant, key: t.variant, points: l.filter((x) => Number.isFinite(x.reward)).map((x) => [x.step!, x.reward!] as [number, number]) })).filter((s) => s.points.length);
    const lossSeries = lines.map(({ t, lines: l }) => ({ label: t.variant, key: t.variant, points: l.filter((x) => Number.isFinite(x.loss)).map((x) => [x.step!, x.loss!] as [number, number]) })).filter((s) => s.points.length);
    if (rewardSeries.length) curveParts.push(figure({ name: 'curves-refl-reward', svg: lineChart(rewardSeries, { title: 'ReFL: reward of the samples', xLabel: 'ReFL step', yLabel: 'reward R' }) }, figures));
    if (lossSeries.length) curveParts.push(figure({ name: 'curves-refl-loss', svg: lineChart(lossSeries, { title: 'ReFL: loss', xLabel: 'ReFL step', yLabel: 'L = L_pretrain + λ L_reward' }) }, figures));
  }
  const reflNote = refl ? '' : missingNotice('ReFL reward and loss curves', whyMissing(m, 'refl'));
  if (curveParts.length) {
    add({ id: 'curves', title: 'Training curves', lede: 'Per optimizer step from the JSONL logs in the run directory: raw values faint, a moving average drawn over them.', body: `<div class="row">${curveParts.join('')}</div>${reflNote}` }, true);
  } else {
    const reason = rewards ? 'the training logs are empty' : whyMissing(m, 'rewards');
    add({ id: 'curves', title: 'Training curves', body: missingNotice('The training curves', reason) + reflNote }, false, reason);
  }

  // 8. Image grids (Fig. 5)
  if (evaluation && evaluation.grid.images.length) {
    const grids = buildGrids(runDir, evaluation.generators, evaluation.grid.images, evaluation.grid.columns);
    for (const g of grids) figures.push({ name: `fig5-grid-${g.dimension}`, svg: gridSvg(g) });
    add({
      id: 'grids', title: 'Before and after', paper: 'Fig. 5',
      lede: `The same benchmark prompts and seed drawn by each generator, for each dimension (the first ${evaluation.grid.columns} prompts stressing it). Images shown at 2&times;, nearest-neighbour.`,
      body: grids.map(gridHtml).join(''),
    }, true);
  } else {
    const reason = evaluation ? 'the evaluation kept no images' : evalMissing;
    add({ id: 'grids', title: 'Before and after', paper: 'Fig. 5', body: missingNotice('The image grids', reason) }, false, reason);
  }

  // Write the page and the figures.
  mkdirSync(join(out, 'figures'), { recursive: true });
  const files: string[] = [];
  for (const f of figures) {
    const file = join(out, 'figures', `${f.name}.png`);
    await svgToPng(f.svg, file);
    files.push(file);
  }
  const subtitle = esc(`TreeReward on the synthetic world: ${m.mode} run, seed ${m.seed}. Figures and tables are computed from the files in this run directory; a section whose inputs do not exist yet says so.`);
  const footer = esc(`Made by treereward report from ${relative(out, runDir) || '.'}/run.json. PNG versions of the figures: figures/.`);
  const html = join(out, 'index.html');
  writeFileSync(html, page('TreeReward report', subtitle, sections, footer));
  if (!existsSync(html)) throw new Error(`Expected the report at ${html} but it was not written`);
  return { html, figures: files, sections: info };
}
