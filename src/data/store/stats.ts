// stats.ts: what is in a feedback store: pairs per dimension and strategy, splits, tie rates,
// agreement between annotators where a comparison has labels from several, and agreement of the
// recorded (possibly noisy) labels with the clean label where both exist.
import type { Split } from '../types.js';
import { agreementOf, type AgreementSummary, type Judgement } from './agreement.js';
import type { FeedbackStore } from './feedback-store.js';

export interface DimensionStats {
  dimension: string;
  pairs: number;
  labelled: number;
  queued: number;
  ties: number;
  /** Ties among labelled pairs; null without labelled pairs. */
  tieRate: number | null;
  splits: Record<Split, number>;
}

export interface StrategyStats {
  dimension: string;
  strategy: string;
  pairs: number;
  labelled: number;
  ties: number;
  tieRate: number | null;
}

export interface CleanLabelAgreement {
  /** Labelled pairs that carry a clean label. */
  pairs: number;
  /** Of those, pairs whose recorded label (preferred side, or tie) is the clean label. */
  agree: number;
  agreement: number | null;
}

export interface StoreStats {
  pairs: number;
  labelled: number;
  queued: number;
  prompts: number;
  images: number;
  storedImages: number;
  ties: number;
  tieRate: number | null;
  byDimension: DimensionStats[];
  byStrategy: StrategyStats[];
  cleanLabel: CleanLabelAgreement & { byDimension: (CleanLabelAgreement & { dimension: string })[]; byAnnotator: (CleanLabelAgreement & { annotator: string })[] };
  annotations: {
    total: number;
    byChoice: Record<string, number>;
    annotators: number;
    meanTimeSpentMs: number | null;
    /** Annotations (not skips) on pairs with a clean label, against it. */
    vsCleanLabel: CleanLabelAgreement;
  };
  /** Between annotators, over comparisons (same dimension and images) labelled by several. */
  agreement: AgreementSummary;
  /** The same, one dimension at a time (dimensions with such comparisons only). */
  agreementByDimension: (AgreementSummary & { dimension: string })[];
  /**
   * Annotations (not skips) against the clean label of the same comparison (dimension and both images),
   * wherever a labelled pair of it carries one (a simulated expert's pair): on the same pair row or on a
   * queued copy of it that people labelled.
   */
  annotationsVsClean: CleanLabelAgreement & { byDimension: (CleanLabelAgreement & { dimension: string })[]; byAnnotator: (CleanLabelAgreement & { annotator: string })[] };
}

const rate = (num: number, den: number): number | null => (den > 0 ? num / den : null);

// The recorded label of a labelled pair agrees with its clean label when both say the same thing.
const CLEAN_AGREES = `CASE WHEN (tie = 1 AND clean_label = 'tie') OR (tie = 0 AND clean_label = 'preferred') THEN 1 ELSE 0 END`;

export function storeStats(store: FeedbackStore): StoreStats {
  const db = store.db;
  const one = <T>(sql: string): T => db.prepare(sql).get() as T;

  const dims = db.prepare(`SELECT dimension, count(*) AS pairs, sum(labelled) AS labelled, sum(labelled = 1 AND tie = 1) AS ties,
      sum(labelled = 1 AND split = 'train') AS train, sum(labelled = 1 AND split = 'validation') AS validation, sum(labelled = 1 AND split = 'test') AS test
    FROM pairs GROUP BY dimension ORDER BY dimension`).all() as { dimension: string; pairs: number; labelled: number; ties: number; train: number; validation: number; test: number }[];
  const byDimension: DimensionStats[] = dims.map((d) => ({
    dimension: d.dimension, pairs: d.pairs, labelled: d.labelled, queued: d.pairs - d.labelled, ties: d.ties,
    tieRate: rate(d.ties, d.labelled), splits: { train: d.train, validation: d.validation, test: d.test },
  }));
  const strategies = db.prepare(`SELECT dimension, strategy, count(*) AS pairs, sum(labelled) AS labelled, sum(labelled = 1 AND tie = 1) AS ties
    FROM pairs GROUP BY dimension, strategy ORDER BY dimension, strategy`).all() as { dimension: string; strategy: string; pairs: number; labelled: number; ties: number }[];
  const byStrategy: StrategyStats[] = strategies.map((s) => ({ ...s, tieRate: rate(s.ties, s.labelled) }));

  const pairs = byDimension.reduce((a, d) => a + d.pairs, 0);
  const labelled = byDimension.reduce((a, d) => a + d.labelled, 0);
  const ties = byDimension.reduce((a, d) => a + d.ties, 0);

  const clean = (group: string): { key: string; pairs: number; agree: number }[] =>
    db.prepare(`SELECT ${group} AS key, count(*) AS pairs, sum(${CLEAN_AGREES}) AS agree FROM pairs
      WHERE labelled = 1 AND clean_label IS NOT NULL GROUP BY ${group} ORDER BY ${group}`).all() as { key: string; pairs: number; agree: number }[];
  const cleanByDimension = clean('dimension').map((r) => ({ dimension: r.key, pairs: r.pairs, agree: r.agree, agreement: rate(r.agree, r.pairs) }));
  const cleanByAnnotator = clean('annotator').map((r) => ({ annotator: r.key, pairs: r.pairs, agree: r.agree, agreement: rate(r.agree, r.pairs) }));
  const cleanPairs = cleanByDimension.reduce((a, r) => a + r.pairs, 0);
  const cleanAgree = cleanByDimension.reduce((a, r) => a + r.agree, 0);

  const choices = db.prepare('SELECT choice, count(*) AS n FROM annotations GROUP BY choice ORDER BY choice').all() as { choice: string; n: number }[];
  const ann = one<{ total: number; annotators: number; meanTime: number | null }>(
    'SELECT count(*) AS total, count(DISTINCT annotator) AS annotators, avg(time_spent_ms) AS meanTime FROM annotations');
  // 'left' names the preferred_* side, so a left choice agrees with clean label 'preferred'.
  const annClean = one<{ n: number; agree: number | null }>(`SELECT count(*) AS n,
      sum(CASE WHEN (a.choice = 'left' AND p.clean_label = 'preferred') OR (a.choice = 'right' AND p.clean_label = 'rejected')
               OR (a.choice = 'tie' AND p.clean_label = 'tie') THEN 1 ELSE 0 END) AS agree
    FROM annotations a JOIN pairs p ON p.id = a.pair_id WHERE a.choice != 'skip' AND p.clean_label IS NOT NULL`);

  const all = [...judgements(store)];
  const byDimensionJudgements = new Map<string, Judgement[]>();
  for (const j of all) {
    const dimension = j.item.slice(0, j.item.indexOf('\u0000'));
    let list = byDimensionJudgements.get(dimension);
    if (!list) byDimensionJudgements.set(dimension, (list = []));
    list.push(j);
  }

  return {
    pairs, labelled, queued: pairs - labelled,
    prompts: one<{ n: number }>('SELECT count(*) AS n FROM prompts').n,
    images: one<{ n: number }>('SELECT count(*) AS n FROM images').n,
    storedImages: one<{ n: number }>('SELECT count(*) AS n FROM images WHERE stored = 1').n,
    ties, tieRate: rate(ties, labelled),
    byDimension, byStrategy,
    cleanLabel: { pairs: cleanPairs, agree: cleanAgree, agreement: rate(cleanAgree, cleanPairs), byDimension: cleanByDimension, byAnnotator: cleanByAnnotator },
    annotations: {
      total: ann.total,
      byChoice: Object.fromEntries(choices.map((c) => [c.choice, c.n])),
      annotators: ann.annotators,
      meanTimeSpentMs: ann.meanTime,
      vsCleanLabel: { pairs: annClean.n, agree: annClean.agree ?? 0, agreement: rate(annClean.agree ?? 0, annClean.n) },
    },
    agreement: agreementOf(all),
    agreementByDimension: [...byDimensionJudgements].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([dimension, js]) => ({ dimension, ...agreementOf(js) })),
    annotationsVsClean: annotationsVsClean(store),
  };
}

// An annotation's and a clean label's verdict on a comparison: 'lo' (the smaller image id wins), 'hi' or 'tie'.
const ANNOTATION_VERDICT = `CASE WHEN a.choice = 'tie' THEN 'tie' WHEN (a.choice = 'left') = (p.preferred_image_id < p.rejected_image_id) THEN 'lo' ELSE 'hi' END`;
const CLEAN_VERDICT = `CASE WHEN clean_label = 'tie' THEN 'tie' WHEN (clean_label = 'preferred') = (preferred_image_id < rejected_image_id) THEN 'lo' ELSE 'hi' END`;

function annotationsVsClean(store: FeedbackStore): StoreStats['annotationsVsClean'] {
  const rows = store.db.prepare(`WITH truth AS (
      SELECT dimension, min(preferred_image_id, rejected_image_id) AS lo, max(preferred_image_id, rejected_image_id) AS hi, min(${CLEAN_VERDICT}) AS verdict
      FROM pairs WHERE labelled = 1 AND clean_label IS NOT NULL GROUP BY dimension, lo, hi)
    SELECT p.dimension, a.annotator, count(*) AS pairs, sum(${ANNOTATION_VERDICT} = t.verdict) AS agree
    FROM annotations a JOIN pairs p ON p.id = a.pair_id
    JOIN truth t ON t.dimension = p.dimension AND t.lo = min(p.preferred_image_id, p.rejected_image_id) AND t.hi = max(p.preferred_image_id, p.rejected_image_id)
    WHERE a.choice != 'skip' GROUP BY p.dimension, a.annotator ORDER BY p.dimension, a.annotator`).all() as { dimension: string; annotator: string; pairs: number; agree: number }[];
  const group = (key: 'dimension' | 'annotator'): Map<string, { pairs: number; agree: number }> => {
    const m = new Map<string, { pairs: number; agree: number }>();
    for (const r of rows) {
      const g = m.get(r[key]) ?? { pairs: 0, agree: 0 };
      g.pairs += r.pairs;
      g.agree += r.agree;
      m.set(r[key], g);
    }
    return m;
  };
  const pairs = rows.reduce((a, r) => a + r.pairs, 0);
  const agree = rows.reduce((a, r) => a + r.agree, 0);
  return {
    pairs, agree, agreement: rate(agree, pairs),
    byDimension: [...group('dimension')].map(([dimension, g]) => ({ dimension, ...g, agreement: rate(g.agree, g.pairs) })),
    byAnnotator: [...group('annotator')].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([annotator, g]) => ({ annotator, ...g, agreement: rate(g.agree, g.pairs) })),
  };
}

/**
 * Every label of every comparison: a labelled pair row is its annotator's judgement (unless its label
 * was resolved from annotations), an annotation is its annotator's. A comparison is a dimension and
 * an unordered pair of images; labels say which image ('lo' = the smaller image id) wins, or 'tie'.
 * Only comparisons labelled by two or more annotators are read.
 */
function* judgements(store: FeedbackStore): Generator<Judgement> {
  const sql = `WITH j AS (
      SELECT dimension, min(preferred_image_id, rejected_image_id) AS lo, max(preferred_image_id, rejected_image_id) AS hi, annotator,
             CASE WHEN tie = 1 THEN 'tie' WHEN preferred_image_id < rejected_image_id THEN 'lo' ELSE 'hi' END AS label, id AS seq
      FROM pairs WHERE labelled = 1 AND from_annotations = 0 AND annotator != ''
      UNION ALL
      SELECT p.dimension, min(p.preferred_image_id, p.rejected_image_id), max(p.preferred_image_id, p.rejected_image_id), a.annotator,
             CASE WHEN a.choice = 'tie' THEN 'tie'
                  WHEN (a.choice = 'left') = (p.preferred_image_id < p.rejected_image_id) THEN 'lo' ELSE 'hi' END,
             (SELECT max(id) FROM pairs) + a.id
      FROM annotations a JOIN pairs p ON p.id = a.pair_id WHERE a.choice != 'skip'
    ),
    multi AS (SELECT dimension, lo, hi FROM j GROUP BY dimension, lo, hi HAVING count(DISTINCT annotator) > 1)
    SELECT j.dimension, j.lo, j.hi, j.annotator, j.label FROM j JOIN multi USING (dimension, lo, hi) ORDER BY j.seq`;
  for (const r of store.db.prepare(sql).iterate() as Iterable<{ dimension: string; lo: number; hi: number; annotator: string; label: string }>) {
    yield { item: `${r.dimension}\u0000${r.lo}\u0000${r.hi}`, annotator: r.annotator, label: r.label };
  }
}
