// label-export.ts: every label people gave, as JSON lines (what GET /api/export streams to admins).
// Pair labels: {type: "pair", pairId, dimension, annotator, choice, ...} where choice is in stored order
// ('left' = the pair's preferred_* side as stored now), with both sides' prompts and images and, where the
// app recorded it, which image the screen showed on the left. A/B labels: {type: "ab", set, outcome
// ("win" / "tie" / "loss" for model A, or "skip"), ...}.
import type { FeedbackStore } from '../data/store/feedback-store.js';
import { ensureAnnotateSchema } from './schema.js';

const AB_OUTCOME: Record<string, string> = { a: 'win', b: 'loss', tie: 'tie', skip: 'skip' };

export function* labelLines(store: FeedbackStore, options: { kind?: 'pair' | 'ab' } = {}): Generator<string> {
  ensureAnnotateSchema(store.db);
  const db = store.db;
  const image = (id: number): { path: string; sha256: string | null } => {
    const img = store.imageById(id)!;
    return { path: store.imagePath(img), sha256: img.sha256 };
  };
  if (options.kind !== 'ab') {
    const rows = db.prepare(`SELECT a.id, a.pair_id, a.annotator, a.choice, a.created_at, a.time_spent_ms,
        p.dimension, p.strategy, p.key, p.clean_label, p.labelled, p.preferred_image_id, p.rejected_image_id, pp.text AS left_prompt, rp.text AS right_prompt,
        (SELECT l.left_image_id FROM annotate_leases l WHERE l.kind = 'pair' AND l.target_id = a.pair_id AND l.annotator = a.annotator AND l.done_at IS NOT NULL
          ORDER BY l.done_at DESC LIMIT 1) AS shown_left_image_id
      FROM annotations a JOIN pairs p ON p.id = a.pair_id
      JOIN prompts pp ON pp.id = p.preferred_prompt_id JOIN prompts rp ON rp.id = p.rejected_prompt_id
      ORDER BY a.id`).iterate() as Iterable<Record<string, unknown>>;
    for (const r of rows) {
      const shown = r.shown_left_image_id as number | null;
      yield JSON.stringify({
        type: 'pair', pairId: r.pair_id, key: r.key, dimension: r.dimension, strategy: r.strategy, annotator: r.annotator, choice: r.choice,
        createdAt: r.created_at, timeSpentMs: r.time_spent_ms, cleanLabel: r.clean_label, resolved: r.labelled === 1,
        left: { prompt: r.left_prompt, image: image(r.preferred_image_id as number) },
        right: { prompt: r.right_prompt, image: image(r.rejected_image_id as number) },
        shownLeft: shown === null ? null : shown === r.preferred_image_id ? 'left' : 'right',
      });
    }
  }
  if (options.kind !== 'pair') {
    const rows = db.prepare(`SELECT x.annotator, x.outcome, x.a_shown_left, x.created_at, x.time_spent_ms, i.key, i.prompt, i.dimension, i.a_image_id, i.b_image_id,
        s.name, s.model_a, s.model_b
      FROM ab_labels x JOIN ab_items i ON i.id = x.item_id JOIN ab_sets s ON s.id = i.set_id ORDER BY x.id`).iterate() as Iterable<Record<string, unknown>>;
    for (const r of rows) {
      yield JSON.stringify({
        type: 'ab', set: r.name, modelA: r.model_a, modelB: r.model_b, key: r.key, prompt: r.prompt, dimension: r.dimension,
        annotator: r.annotator, outcome: AB_OUTCOME[r.outcome as string], shownLeft: r.a_shown_left === 1 ? 'a' : 'b',
        createdAt: r.created_at, timeSpentMs: r.time_spent_ms, a: image(r.a_image_id as number), b: image(r.b_image_id as number),
      });
    }
  }
}
