// report.ts: `treereward report RUN_DIR [--out DIR] [--ab STORE#SET ...] [--json]`: writes the run's
// report as one self-contained HTML file (inline SVG charts, base64 PNG images, nothing fetched) and
// the same figures as PNG, and prints where. --ab adds the win / tie / loss people gave in an A/B set
// of the annotation app (the feedback store's directory and the set's name).
import { resolve } from 'node:path';
import type { Command } from 'commander';

import { writeReport } from '../report/write-report.js';
import { nonEmpty } from './data-options.js';

interface ReportCliOptions {
  out?: string;
  ab: string[];
  json?: boolean;
}

function abOption(value: string): { store: string; set: string } {
  const at = value.lastIndexOf('#');
  if (at <= 0 || at === value.length - 1) throw new Error(`Expected STORE_DIR#SET_NAME for --ab but received ${JSON.stringify(value)}`);
  return { store: value.slice(0, at), set: value.slice(at + 1) };
}

export function register(program: Command): void {
  program
    .command('report')
    .description('write the HTML report (and PNG figures) of a run directory made by `treereward demo` or `treereward eval --out`')
    .argument('<run-dir>', 'the run directory (with run.json)')
    .option('--out <dir>', 'where to write (default: RUN_DIR/report)')
    .option('--ab <store#set>', "add people's win / tie / loss from an A/B set of the annotation app (repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print where the report and figures are as one JSON document')
    .action(async (runDir: string, opts: ReportCliOptions) => {
      const dir = resolve(nonEmpty(runDir, 'RUN_DIR'));
      const r = await writeReport(dir, { out: opts.out === undefined ? undefined : resolve(opts.out), ab: opts.ab.map(abOption) });
      if (opts.json) {
        console.log(JSON.stringify({ ok: true, ...r }, null, 2));
        return;
      }
      console.log(`report: ${r.html}`);
      console.log(`figures: ${r.figures.length} PNG files in ${resolve(r.html, '..', 'figures')}`);
      for (const s of r.sections.filter((x) => !x.shown)) console.log(`  ${s.title}: not available (${s.reason})`);
    });
}
