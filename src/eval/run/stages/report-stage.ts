// report-stage.ts: stage 5, the report (src/report): report/index.html and report/figures/*.png.
// Outputs: { html, figures, sections: { shown, missing } }.
import { relative } from 'node:path';

import { writeReport } from '../../../report/write-report.js';
import type { Stage } from '../stages.js';

export function reportStage(): Stage {
  return {
    name: 'report',
    title: 'report',
    async run(ctx) {
      const r = await writeReport(ctx.runDir);
      const shown = r.sections.filter((s) => s.shown).map((s) => s.id);
      const missing = r.sections.filter((s) => !s.shown).map((s) => s.id);
      return {
        status: 'done',
        summary: `${r.html} (${shown.length} sections with figures${missing.length ? `; waiting for inputs: ${missing.join(', ')}` : ''})`,
        outputs: { html: relative(ctx.runDir, r.html), figures: r.figures.map((f) => relative(ctx.runDir, f)), sections: { shown, missing } },
      };
    },
  };
}
