// data-import.ts: `treereward data import --format F FILE --store DIR [--dimension overall] [--on-error skip|fail]`
import type { Command } from 'commander';
import { FeedbackStore } from '../data/store/feedback-store.js';
import { FORMATS, importerFor } from '../data/importers/formats.js';
import { ImportFailedError, importFile, type ImportReport } from '../data/importers/import-runner.js';
import { dataCommand, nonEmpty, oneOf, positiveInt, progressBar } from './data-options.js';

interface ImportCliOptions {
  format?: string;
  store?: string;
  dimension: string;
  onError: string;
  imageRoot?: string;
  batch: string;
  json?: boolean;
}

function summary(r: ImportReport): string {
  const lines = [
    `imported ${r.inserted} pairs into dimension "${r.dimension}" from ${r.rowsRead} ${r.unit}s of ${r.file} (${r.format})`,
    `  ${r.duplicates} already stored (skipped), ${r.badRows} bad ${r.unit}s, ${r.emptyRows} ${r.unit}s without a preference, ${r.seconds.toFixed(1)} s`,
  ];
  for (const e of r.errors.slice(0, 20)) lines.push(`  ${r.unit} ${e.number}: ${e.reason}`);
  if (r.badRows > 20) lines.push(`  ... and ${r.badRows - 20} more bad ${r.unit}s (--json lists up to 1000)`);
  return lines.join('\n');
}

export function register(program: Command): void {
  dataCommand(program)
    .command('import')
    .description('import preference pairs from a JSONL, JSON or Parquet file into the feedback store')
    .argument('<file>', 'the data file')
    .requiredOption('--format <format>', `the file's format: ${FORMATS.join(', ')}`)
    .requiredOption('--store <dir>', 'the feedback store directory (created if missing)')
    .option('--dimension <name>', 'the dimension the pairs go to', 'overall')
    .option('--on-error <mode>', 'bad rows: skip (report and go on) or fail (stop at the first)', 'skip')
    .option('--image-root <dir>', "resolve relative image paths against this directory (defaults to the file's)")
    .option('--batch <n>', 'pairs per transaction', '256')
    .option('--json', 'print the report as one JSON document')
    .action(async (file: string, opts: ImportCliOptions) => {
      const importer = importerFor(oneOf(opts.format, FORMATS, '--format'));
      const onError = oneOf(opts.onError, ['skip', 'fail'] as const, '--on-error');
      const dimension = nonEmpty(opts.dimension, '--dimension');
      const batchSize = positiveInt(opts.batch, '--batch');
      const store = FeedbackStore.open(nonEmpty(opts.store, '--store'));
      const bar = progressBar(`import ${importer.format}`);
      try {
        const report = await importFile(store, importer, file, {
          dimension, onError, batchSize, imageRoot: opts.imageRoot,
          onProgress: (p) => bar.update(p.rowsRead, p.total),
        });
        bar.stop();
        console.log(opts.json ? JSON.stringify({ ok: true, ...report }, null, 2) : summary(report));
      } catch (err) {
        bar.stop();
        if (err instanceof ImportFailedError && opts.json) console.log(JSON.stringify({ ok: false, error: err.message, ...err.report }, null, 2));
        throw err;
      } finally {
        store.close();
      }
    });
}
