// data-show.ts: `treereward data show --store DIR --dimension D --n 16 --out grid.png`: a labelled grid of
// pairs, drawn at random (seeded) from one dimension.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderPairGrid } from '../data/store/pair-grid.js';
import { SeededRandom } from '../data/store/prng.js';
import { dataCommand, integer, nonEmpty, openExistingStore, positiveInt, progressBar } from './data-options.js';

interface ShowOptions {
  store?: string;
  dimension?: string;
  n: string;
  out?: string;
  seed: string;
  cell: string;
  columns: string;
  json?: boolean;
}

export function register(program: Command): void {
  dataCommand(program)
    .command('show')
    .description('write a PNG grid of pairs of one dimension: each pair side by side, the preferred one marked, the prompt above')
    .requiredOption('--store <dir>', 'the feedback store directory')
    .requiredOption('--dimension <name>', 'the dimension to show')
    .option('--n <count>', 'how many pairs', '16')
    .requiredOption('--out <file>', 'the PNG to write')
    .option('--seed <seed>', 'which pairs are drawn', '0')
    .option('--cell <pixels>', 'image size in the grid', '160')
    .option('--columns <count>', 'pairs per row', '2')
    .option('--json', 'print the result as one JSON document')
    .action(async (opts: ShowOptions) => {
      const n = positiveInt(opts.n, '--n');
      const seed = integer(opts.seed, '--seed');
      const cell = positiveInt(opts.cell, '--cell');
      const columns = positiveInt(opts.columns, '--columns');
      const out = nonEmpty(opts.out, '--out');
      const dimension = nonEmpty(opts.dimension, '--dimension');
      const store = openExistingStore(opts.store);
      try {
        const ids = store.db.prepare('SELECT id FROM pairs WHERE dimension = ? ORDER BY id').pluck().all(dimension) as number[];
        if (ids.length === 0) {
          throw new Error(`Expected a dimension with pairs for --dimension but received ${JSON.stringify(dimension)} (the store has: ${store.dimensions().join(', ') || 'no pairs'})`);
        }
        // a seeded partial shuffle: n distinct pairs, shown in id order
        const rng = new SeededRandom(seed);
        const k = Math.min(n, ids.length);
        for (let i = 0; i < k; i++) {
          const j = i + rng.int(ids.length - i);
          [ids[i], ids[j]] = [ids[j], ids[i]];
        }
        const chosen = ids.slice(0, k).sort((a, b) => a - b).map((id) => store.getPair(id)!);
        const bar = progressBar('show', 1);
        const png = await renderPairGrid(store, chosen, { cell, columns });
        await writeFile(out, png);
        bar.update(1);
        bar.stop();
        const result = { out, dimension, pairs: chosen.map((p) => ({ id: p.id, prompt: p.preferred.prompt, tie: p.tie, labelled: p.labelled })) };
        console.log(opts.json ? JSON.stringify(result, null, 2) : `wrote ${chosen.length} pairs of ${dimension} to ${out}`);
      } finally {
        store.close();
      }
    });
}
