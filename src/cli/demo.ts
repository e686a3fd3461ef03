// demo.ts: `treereward demo [--quick | --full] [--out DIR] [--seed N] [--json]`: the paper's
// pipeline on the synthetic world, stage by stage with progress bars and one line per stage:
// feedback pairs -> reward models -> ReFL -> evaluation -> report, then where the report is. Every
// stage is checkpointed in DIR/run.json: the same command resumes a stopped run (Ctrl-C stops it
// cleanly). --quick takes about 3 minutes, the default at most 15, --full (the Table 4 ablation over
// 3 seeds on the 600 benchmark prompts) hours over as many sittings as it needs.
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { runDemo } from '../eval/run/demo.js';
import type { DemoMode } from '../eval/run/demo-config.js';
import { stageRecord } from '../eval/run/run-dir.js';
import { integer, progressBar } from './data-options.js';
import { onStopSignals } from './stop-signals.js';

interface DemoCliOptions {
  quick?: boolean;
  full?: boolean;
  out?: string;
  seed: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on the synthetic world (feedback data, rewards, ReFL, evaluation) and write the report')
    .option('--quick', 'the ~3-minute version (small data, short training)')
    .option('--full', "the paper's whole Table 4 ablation: four reward variants, 3 seeds, the 600 benchmark prompts (hours; resumable)")
    .option('--out <dir>', 'the run directory (default: treereward-demo-<mode>-seed<N>); rerunning resumes it')
    .option('--seed <n>', 'seed of everything in the run', '0')
    .option('--json', 'print the run manifest as one JSON document at the end')
    .action(async (opts: DemoCliOptions) => {
      if (opts.quick && opts.full) throw new Error('Expected at most one of --quick and --full but received both');
      const mode: DemoMode = opts.quick ? 'quick' : opts.full ? 'full' : 'default';
      const seed = integer(opts.seed, '--seed');
      const runDir = resolve(opts.out ?? `treereward-demo-${mode}-seed${seed}`);
      const say = (line: string) => (opts.json ? console.error(line) : console.log(line));
      const stop = new AbortController();
      const offSignals = onStopSignals(() => {
        say('stopping after the current step (Ctrl-C or SIGTERM again to force)...');
        stop.abort();
      });
      const t0 = Date.now();
      say(`treereward demo (${mode}, seed ${seed}) in ${runDir}`);
      try {
        const result = await runDemo({
          mode, seed, runDir, command: `treereward ${process.argv.slice(2).join(' ')}`, signal: stop.signal,
          events: {
            progress: (label, total) => progressBar(`  ${label}`, total),
            log: (line) => say(`      ${line}`),
            onStageStart: (i, n, stage, skipped) => {
              if (!skipped) say(`[${i + 1}/${n}] ${stage.title}...`);
            },
            onStageEnd: (i, n, rec, skipped) => {
              const what = rec.status === 'done' ? rec.summary : rec.reason;
              const time = skipped ? 'done in an earlier sitting' : `${rec.seconds.toFixed(0)} s`;
              say(`[${i + 1}/${n}] ${rec.title}: ${rec.status === 'done' ? '' : `${rec.status.toUpperCase()}: `}${what} (${time})`);
            },
          },
        });
        const seconds = (Date.now() - t0) / 1000;
        if (result.stopped) say(`stopped after ${seconds.toFixed(0)} s; run the same command again to resume`);
        const report = stageRecord(result.manifest, 'report');
        if (!result.stopped && report?.status === 'done') say(`report: ${resolve(runDir, String(report.outputs.html))} (${seconds.toFixed(0)} s in all)`);
        if (opts.json) console.log(JSON.stringify({ ok: !result.stopped, runDir, seconds, manifest: result.manifest }, null, 2));
      } finally {
        offSignals();
      }
    });
}
