// ab-results.ts: win / tie / loss from people instead of simulated experts: the annotation app's
// A/B mode stores each set's labels in a feedback store, and its summary (src/annotate/ab-summary.ts)
// is read here into the evaluation's own form, so the report draws both the same way.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import { abSummary, type WinTieLoss as AbWinTieLoss } from '../annotate/ab-summary.js';
import { DATABASE_FILE, FeedbackStore } from '../data/store/feedback-store.js';
import type { ComparisonTally, WinTieLoss } from './win-tie-loss.js';

function convert(t: AbWinTieLoss): WinTieLoss {
  return { win: t.win, tie: t.tie, loss: t.loss, n: t.labels, winRate: t.winRate ?? 0, tieRate: t.tieRate ?? 0, lossRate: t.lossRate ?? 0 };
}

export interface PeopleTally extends ComparisonTally {
  source: 'people';
  set: string;
  annotators: number;
  labelledPrompts: number;
}

/** The A/B set `set` of the store in `storeDir` as a comparison tally (model A's side). */
export function abSetTally(storeDir: string, set: string): PeopleTally {
  if (!existsSync(join(storeDir, DATABASE_FILE))) throw new Error(`Expected a feedback store with A/B sets for the A/B results but received ${JSON.stringify(storeDir)} (no ${DATABASE_FILE} in it)`);
  const store = FeedbackStore.open(storeDir);
  try {
    const s = abSummary(store, set);
    const byDimension: Partial<Record<Dimension, WinTieLoss>> = {};
    for (const d of s.byDimension) if (d.dimension && (DIMENSIONS as readonly string[]).includes(d.dimension)) byDimension[d.dimension as Dimension] = convert(d);
    return {
      source: 'people', set: s.set, a: s.modelA, b: s.modelB, annotators: s.annotators.length, labelledPrompts: s.labelledItems,
      overall: convert(s.overall), byPrompt: convert(s.byPrompt), byDimension,
      // people give no clean label: the judge's view is left empty
      judgeByPrompt: convert({ win: 0, tie: 0, loss: 0, skip: 0, labels: 0, winRate: null, tieRate: null, lossRate: null }),
    };
  } finally {
    store.close();
  }
}
