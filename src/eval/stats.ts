// stats.ts: the few statistics the evaluation reports: means, the sample standard deviation, and a
// metric's summary over seeds (mean of the per-seed values and their spread).

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample standard deviation (n - 1); null for fewer than two values (no spread to report). */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  let q = 0;
  for (const v of values) q += (v - m) ** 2;
  return Math.sqrt(q / (values.length - 1));
}

/** A metric over seeds: `values` holds one number per seed (each already a mean over prompts). */
export interface SeedSummary {
  mean: number;
  /** Sample standard deviation over the seeds; null with one seed. */
  std: number | null;
  /** Seeds. */
  n: number;
  values: number[];
}

export function overSeeds(values: readonly number[]): SeedSummary {
  return { mean: mean(values), std: sampleStd(values), n: values.length, values: [...values] };
}

/** Groups `items` by key, keeping first-seen order of the keys. */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(item);
  }
  return out;
}

/** "0.612 ± 0.013" (or "0.612" without spread), `digits` after the point. */
export function formatSummary(s: Pick<SeedSummary, 'mean' | 'std'>, digits = 3): string {
  if (!Number.isFinite(s.mean)) return 'n/a';
  return s.std === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}
