// data-export.ts: `treereward data export --store DIR --out FILE.jsonl [--dimension D]`: the store as
// JSON lines (read back with `data import --format treereward`).
import type { Command } from 'commander';
import { exportJsonl } from '../data/store/jsonl-export.js';
import { dataCommand, nonEmpty, openExistingStore, progressBar } from './data-options.js';

export function register(program: Command): void {
  dataCommand(program)
    .command('export')
    .description('write every pair, with prompts, images and annotations, as JSON lines')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .requiredOption('--out <file>', 'the JSONL file to write')
    .option('--dimension <name>', 'only this dimension')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: { store?: string; out?: string; dimension?: string; json?: boolean }) => {
      const out = nonEmpty(opts.out, '--out');
      const store = openExistingStore(opts.store);
      try {
        const bar = progressBar('export', store.countPairs({ dimension: opts.dimension }));
        const lines = await exportJsonl(store, out, { dimension: opts.dimension, onProgress: (n) => bar.update(n) });
        bar.stop();
        console.log(opts.json ? JSON.stringify({ out, pairs: lines }) : `wrote ${lines} pairs to ${out}`);
      } finally {
        store.close();
      }
    });
}
