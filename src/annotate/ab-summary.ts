// ab-summary.ts: the result of an A/B set as the paper's Fig. 7 reports it: win / tie / loss of model A
// against model B, over all labels, per dimension, per annotator, and per prompt (with each person's
// outcome and the majority). Skips are counted apart and left out of the rates.
import type { FeedbackStore } from '../data/store/feedback-store.js';
import { ApiError } from './api-error.js';
import { ensureAnnotateSchema } from './schema.js';

export type AbOutcome = 'win' | 'tie' | 'loss';

export interface WinTieLoss {
  win: number;
  tie: number;
  loss: number;
  skip: number;
  /** win + tie + loss */
  labels: number;
  /** Shares of `labels`; null without labels. */
  winRate: number | null;
  tieRate: number | null;
  lossRate: number | null;
}

export interface AbItemSummary extends WinTieLoss {
  key: string;
  prompt: string;
  dimension: string | null;
  /** The majority of the labels (more A than B: win; equal: tie); null without labels. */
  outcome: AbOutcome | null;
  /** Each annotator's outcome ('skip' where they skipped). */
  byAnnotator: Record<string, AbOutcome | 'skip'>;
}

export interface AbSummary {
  set: string;
  modelA: string;
  modelB: string;
  items: number;
  /** Items with at least one label (not a skip). */
  labelledItems: number;
  annotators: string[];
  /** Over every label. */
  overall: WinTieLoss;
  /** Over items, each counted once by its majority outcome. */
  byPrompt: WinTieLoss;
  byDimension: (WinTieLoss & { dimension: string | null })[];
  byAnnotator: (WinTieLoss & { annotator: string })[];
  perItem: AbItemSummary[];
}

const OUTCOME: Record<string, AbOutcome | 'skip'> = { a: 'win', b: 'loss', tie: 'tie', skip: 'skip' };

function tally(outcomes: Iterable<AbOutcome | 'skip'>): WinTieLoss {
  const t = { win: 0, tie: 0, loss: 0, skip: 0 };
  for (const o of outcomes) t[o]++;
  const labels = t.win + t.tie + t.loss;
  const rate = (n: number): number | null => (labels > 0 ? n / labels : null);
  return { ...t, labels, winRate: rate(t.win), tieRate: rate(t.tie), lossRate: rate(t.loss) };
}

/** The summary of one A/B set (throws for an unknown set name). */
export function abSummary(store: FeedbackStore, setName: string): AbSummary {
  ensureAnnotateSchema(store.db);
  const db = store.db;
  const set = db.prepare('SELECT id, name, model_a, model_b FROM ab_sets WHERE name = ?').get(setName) as { id: number; name: string; model_a: string; model_b: string } | undefined;
  if (!set) throw new ApiError(404, `Expected the name of an A/B set for set but received ${JSON.stringify(setName)}`);
  const items = db.prepare('SELECT id, key, prompt, dimension FROM ab_items WHERE set_id = ? ORDER BY id').all(set.id) as { id: number; key: string; prompt: string; dimension: string | null }[];
  const labels = db.prepare(`SELECT x.item_id, x.annotator, x.outcome FROM ab_labels x JOIN ab_items i ON i.id = x.item_id
    WHERE i.set_id = ? ORDER BY x.item_id, x.annotator`).all(set.id) as { item_id: number; annotator: string; outcome: string }[];
  const byItem = new Map<number, Record<string, AbOutcome | 'skip'>>();
  for (const l of labels) {
    let m = byItem.get(l.item_id);
    if (!m) byItem.set(l.item_id, (m = {}));
    m[l.annotator] = OUTCOME[l.outcome];
  }
  const perItem: AbItemSummary[] = items.map((item) => {
    const byAnnotator = byItem.get(item.id) ?? {};
    const t = tally(Object.values(byAnnotator));
    const outcome: AbOutcome | null = t.labels === 0 ? null : t.win > t.loss ? 'win' : t.loss > t.win ? 'loss' : 'tie';
    return { key: item.key, prompt: item.prompt, dimension: item.dimension, ...t, outcome, byAnnotator };
  });
  const all = labels.map((l) => OUTCOME[l.outcome]);
  const dimensions = [...new Set(items.map((i) => i.dimension))].sort((x, y) => (x ?? '').localeCompare(y ?? ''));
  const annotators = [...new Set(labels.map((l) => l.annotator))].sort();
  return {
    set: set.name, modelA: set.model_a, modelB: set.model_b,
    items: items.length,
    labelledItems: perItem.filter((i) => i.outcome !== null).length,
    annotators,
    overall: tally(all),
    byPrompt: tally(perItem.flatMap((i) => (i.outcome ? [i.outcome] : []))),
    byDimension: dimensions.map((dimension) => ({
      dimension, ...tally(perItem.filter((i) => i.dimension === dimension).flatMap((i) => Object.values(i.byAnnotator))),
    })),
    byAnnotator: annotators.map((annotator) => ({
      annotator, ...tally(labels.filter((l) => l.annotator === annotator).map((l) => OUTCOME[l.outcome])),
    })),
    perItem,
  };
}
