// status.ts: `treereward status RUN_DIR [--json]`: where a run made by `treereward demo` stands (each
// stage, and how many reward and ReFL runs are finished), read from its files; nothing runs.
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { runStatus, statusLines } from '../eval/run/run-status.js';
import { nonEmpty } from './data-options.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('where a run directory of `treereward demo` stands: each stage, and the reward and ReFL runs finished')
    .argument('<run-dir>', 'the run directory (with run.json)')
    .option('--json', 'print the status as one JSON document')
    .action((runDir: string, opts: { json?: boolean }) => {
      const st = runStatus(resolve(nonEmpty(runDir, 'RUN_DIR')));
      if (opts.json) console.log(JSON.stringify(st, null, 2));
      else for (const line of statusLines(st)) console.log(line);
    });
}
