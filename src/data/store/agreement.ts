// agreement.ts: inter-annotator agreement over items labelled by several annotators: percent
// agreement and Cohen's kappa per pair of annotators, pooled over all of them.

/** One annotator's label of one item (an item is one comparison; labels are categories). */
export interface Judgement {
  item: string;
  annotator: string;
  label: string;
}

export interface RaterPairAgreement {
  annotators: [string, string];
  /** Items both labelled. */
  items: number;
  percentAgreement: number;
  /** Null where chance agreement is 1 (both always gave the same single label). */
  kappa: number | null;
}

export interface AgreementSummary {
  /** Items with labels from two or more annotators. */
  items: number;
  /** Annotator pairs compared over all such items. */
  comparisons: number;
  /** Share of those comparisons that agree; null without any. */
  percentAgreement: number | null;
  /** Cohen's kappa pooled over every pair of annotators' shared items; null without any. */
  kappa: number | null;
  byAnnotatorPair: RaterPairAgreement[];
}

/** Cohen's kappa of two raters' labels on the same items: (p_o - p_e) / (1 - p_e). */
export function cohensKappa(labels: readonly (readonly [string, string])[]): number | null {
  const n = labels.length;
  if (n === 0) return null;
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  let agree = 0;
  for (const [a, b] of labels) {
    if (a === b) agree++;
    countA.set(a, (countA.get(a) ?? 0) + 1);
    countB.set(b, (countB.get(b) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [k, ca] of countA) pe += (ca / n) * ((countB.get(k) ?? 0) / n);
  if (Math.abs(1 - pe) < 1e-12) return null;
  return (po - pe) / (1 - pe);
}

/** Agreement over judgements; an annotator's later label of an item replaces an earlier one. */
export function agreementOf(judgements: Iterable<Judgement>): AgreementSummary {
  const byItem = new Map<string, Map<string, string>>();
  for (const j of judgements) {
    let m = byItem.get(j.item);
    if (!m) byItem.set(j.item, (m = new Map()));
    m.set(j.annotator, j.label);
  }
  const pairLabels = new Map<string, { annotators: [string, string]; labels: [string, string][] }>();
  const pooled: [string, string][] = [];
  let items = 0;
  for (const labels of byItem.values()) {
    if (labels.size < 2) continue;
    items++;
    const raters = [...labels.keys()].sort();
    for (let i = 0; i < raters.length; i++) {
      for (let k = i + 1; k < raters.length; k++) {
        const key = JSON.stringify([raters[i], raters[k]]);
        let entry = pairLabels.get(key);
        if (!entry) pairLabels.set(key, (entry = { annotators: [raters[i], raters[k]], labels: [] }));
        const pair: [string, string] = [labels.get(raters[i])!, labels.get(raters[k])!];
        entry.labels.push(pair);
        pooled.push(pair);
      }
    }
  }
  const byAnnotatorPair = [...pairLabels.values()]
    .map(({ annotators, labels }) => ({
      annotators,
      items: labels.length,
      percentAgreement: labels.filter(([a, b]) => a === b).length / labels.length,
      kappa: cohensKappa(labels),
    }))
    .sort((x, y) => y.items - x.items || (x.annotators.join() < y.annotators.join() ? -1 : 1));
  return {
    items,
    comparisons: pooled.length,
    percentAgreement: pooled.length ? pooled.filter(([a, b]) => a === b).length / pooled.length : null,
    kappa: cohensKappa(pooled),
    byAnnotatorPair,
  };
}
