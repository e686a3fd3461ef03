// data-stats.ts: `treereward data stats --store DIR [--json]`
import type { Command } from 'commander';
import { storeStats, type StoreStats } from '../data/store/stats.js';
import { dataCommand, openExistingStore, percent } from './data-options.js';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

function text(s: StoreStats): string {
  const out: string[] = [];
  out.push(`${s.pairs} pairs (${s.labelled} labelled, ${s.queued} queued for annotation), ${s.prompts} prompts, ${s.images} images (${s.storedImages} stored)`);
  out.push(`tie rate ${percent(s.tieRate)}`, '');
  out.push(table([
    ['dimension', 'pairs', 'labelled', 'ties', 'tie rate', 'train', 'validation', 'test'],
    ...s.byDimension.map((d) => [d.dimension, String(d.pairs), String(d.labelled), String(d.ties), percent(d.tieRate), String(d.splits.train), String(d.splits.validation), String(d.splits.test)]),
  ]), '');
  out.push(table([
    ['dimension / strategy', 'pairs', 'labelled', 'ties', 'tie rate'],
    ...s.byStrategy.map((r) => [`${r.dimension} / ${r.strategy}`, String(r.pairs), String(r.labelled), String(r.ties), percent(r.tieRate)]),
  ]), '');
  if (s.cleanLabel.pairs > 0) {
    out.push(`recorded labels vs clean labels: ${s.cleanLabel.agree}/${s.cleanLabel.pairs} agree (${percent(s.cleanLabel.agreement)})`);
    for (const a of s.cleanLabel.byAnnotator) out.push(`  ${a.annotator}: ${a.agree}/${a.pairs} (${percent(a.agreement)})`);
  }
  const a = s.annotations;
  out.push(`annotations: ${a.total} by ${a.annotators} annotators (${Object.entries(a.byChoice).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`
    + (a.meanTimeSpentMs !== null ? `, mean time ${(a.meanTimeSpentMs / 1000).toFixed(1)} s` : ''));
  if (a.vsCleanLabel.pairs > 0) out.push(`  annotations vs clean labels: ${a.vsCleanLabel.agree}/${a.vsCleanLabel.pairs} (${percent(a.vsCleanLabel.agreement)})`);
  const g = s.agreement;
  if (g.items > 0) {
    out.push(`annotator agreement over ${g.items} comparisons labelled by several annotators: ${percent(g.percentAgreement)} agree, Cohen's kappa ${g.kappa === null ? 'n/a' : g.kappa.toFixed(3)}`);
    for (const p of g.byAnnotatorPair.slice(0, 20)) {
      out.push(`  ${p.annotators[0]} / ${p.annotators[1]}: ${p.items} shared, ${percent(p.percentAgreement)} agree, kappa ${p.kappa === null ? 'n/a' : p.kappa.toFixed(3)}`);
    }
  } else {
    out.push('annotator agreement: no comparison has labels from several annotators');
  }
  const dims = [...new Set([...s.agreementByDimension.map((d) => d.dimension), ...s.annotationsVsClean.byDimension.map((d) => d.dimension)])].sort();
  if (dims.length > 0) {
    out.push('', table([
      ['dimension', 'compared items', 'annotators agree', 'kappa', 'annotations vs clean', 'agree'],
      ...dims.map((dimension) => {
        const g = s.agreementByDimension.find((d) => d.dimension === dimension);
        const c = s.annotationsVsClean.byDimension.find((d) => d.dimension === dimension);
        return [dimension, String(g?.items ?? 0), percent(g?.percentAgreement ?? null), g?.kappa == null ? 'n/a' : g.kappa.toFixed(3), String(c?.pairs ?? 0), percent(c?.agreement ?? null)];
      }),
    ]));
    for (const a of s.annotationsVsClean.byAnnotator) out.push(`  ${a.annotator} vs clean labels: ${a.agree}/${a.pairs} (${percent(a.agreement)})`);
  }
  return out.join('\n');
}

export function register(program: Command): void {
  dataCommand(program)
    .command('stats')
    .description('pairs per dimension and strategy, tie rates, annotator agreement')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .option('--json', 'print one JSON document')
    .action((opts: { store?: string; json?: boolean }) => {
      const store = openExistingStore(opts.store);
      try {
        const stats = storeStats(store);
        console.log(opts.json ? JSON.stringify(stats, null, 2) : text(stats));
      } finally {
        store.close();
      }
    });
}
