// sampler.ts: random labelled pairs for reward training, by dimension with a chosen mixture,
// deterministic for a seed. The ids of the chosen split are loaded once into typed arrays (one per
// dimension, sorted), so drawing an id is two PRNG calls; rows are then read by primary key.
import type { DimensionName, SampledPair, Split } from '../types.js';
import { SPLITS } from '../types.js';
import type { FeedbackStore } from './feedback-store.js';
import { SeededRandom } from './prng.js';

type Statement = ReturnType<FeedbackStore['db']['prepare']>;

export interface SamplerOptions {
  /** Seeds the PRNG: the same store and seed give the same pairs. */
  seed: number;
  /** Which split to draw from, or 'all'. Defaults to 'train'. */
  split?: Split | 'all';
  /**
   * Weight per dimension (normalised here). Dimensions left out are not drawn. Defaults to
   * proportional to the data: every labelled pair of the split equally likely.
   */
  mixture?: Record<DimensionName, number>;
  /** Draw tied pairs too (Bradley-Terry training usually leaves them out). Defaults to false. */
  includeTies?: boolean;
}

/** Ids of one draw, columnar: `dimensionIndex` indexes `PairSampler.dimensions`. */
export interface SampledIds {
  ids: Uint32Array;
  dimensionIndex: Uint16Array;
}

export class PairSampler {
  /** The dimensions that can be drawn, sorted. */
  readonly dimensions: DimensionName[];
  /** Eligible pairs per dimension. */
  readonly counts: Record<DimensionName, number>;
  /** The normalised mixture actually used. */
  readonly weights: Record<DimensionName, number>;
  private readonly idsByDimension: Uint32Array[];
  private readonly cumulative: Float64Array;
  private readonly rng: SeededRandom;
  private readonly store: FeedbackStore;

  constructor(store: FeedbackStore, options: SamplerOptions) {
    this.store = store;
    this.rng = new SeededRandom(options.seed);
    const split = options.split ?? 'train';
    if (split !== 'all' && !(SPLITS as readonly string[]).includes(split)) {
      throw new Error(`Expected one of ${SPLITS.join(', ')}, all for split but received ${JSON.stringify(split)}`);
    }
    const where = `labelled = 1${split === 'all' ? '' : ' AND split = @split'}${options.includeTies ? '' : ' AND tie = 0'}`;
    const db = store.db;
    const countRows = db.prepare(`SELECT dimension, count(*) AS n FROM pairs WHERE ${where} GROUP BY dimension ORDER BY dimension`)
      .all({ split }) as { dimension: string; n: number }[];
    const available = new Map(countRows.map((r) => [r.dimension, r.n]));

    let chosen: [DimensionName, number][];
    if (options.mixture === undefined) {
      chosen = countRows.map((r) => [r.dimension, r.n]);
    } else {
      chosen = Object.entries(options.mixture).filter(([, w]) => w !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [dim, w] of Object.entries(options.mixture)) {
        if (!Number.isFinite(w) || w < 0) throw new Error(`Expected a non-negative weight for mixture.${dim} but received ${w}`);
        if (w > 0 && !available.has(dim)) {
          throw new Error(`Expected labelled pairs of dimension "${dim}" in split ${split} for mixture.${dim} but received none (the store has: ${[...available.keys()].join(', ') || 'nothing'})`);
        }
      }
    }
    const total = chosen.reduce((s, [, w]) => s + w, 0);
    if (chosen.length === 0 || total <= 0) {
      throw new Error(`Expected labelled pairs in split ${split} for the sampler but received none`);
    }
    this.dimensions = chosen.map(([d]) => d);
    this.weights = Object.fromEntries(chosen.map(([d, w]) => [d, w / total]));
    this.counts = Object.fromEntries(chosen.map(([d]) => [d, available.get(d)!]));
    this.cumulative = new Float64Array(chosen.length);
    let acc = 0;
    chosen.forEach(([, w], i) => {
      acc += w / total;
      this.cumulative[i] = acc;
    });
    this.cumulative[chosen.length - 1] = 1;

    const idsOf = db.prepare(`SELECT id FROM pairs WHERE ${where} AND dimension = @dimension`).pluck();
    this.idsByDimension = this.dimensions.map((dimension) => {
      const ids = Uint32Array.from(idsOf.all({ split, dimension }) as number[]);
      return ids.sort(); // typed-array sort is numeric: the order does not depend on the query plan
    });
  }

  /** Draws `n` pair ids (with replacement): the fast path, no row reads. */
  sampleIds(n: number): SampledIds {
    checkCount(n);
    const ids = new Uint32Array(n);
    const dimensionIndex = new Uint16Array(n);
    const cumulative = this.cumulative;
    const last = cumulative.length - 1;
    for (let i = 0; i < n; i++) {
      const u = this.rng.next();
      let d = 0;
      while (d < last && u >= cumulative[d]) d++;
      const pool = this.idsByDimension[d];
      ids[i] = pool[this.rng.int(pool.length)];
      dimensionIndex[i] = d;
    }
    return { ids, dimensionIndex };
  }

  /** Draws `n` pairs (with replacement) with their prompts and absolute image paths. */
  sample(n: number): SampledPair[] {
    const { ids } = this.sampleIds(n);
    const imageDir = `${this.store.dir}/`;
    const pathOf = (path: string, stored: number): string => (stored === 1 || path[0] !== '/' ? imageDir + path : path);
    const out: SampledPair[] = new Array(n);
    // One statement per chunk of ids (json_each keeps their order, repeats included): per-row calls
    // into SQLite cost more than the lookups themselves. Prompt texts come from a cache by id.
    for (let start = 0; start < n; start += READ_CHUNK) {
      const chunk = ids.subarray(start, Math.min(n, start + READ_CHUNK));
      const rows = this.readRows.all(JSON.stringify(Array.from(chunk))) as unknown[][];
      if (rows.length !== chunk.length) throw new Error(`Expected ${chunk.length} pair rows for sample but received ${rows.length} (was the store changed while sampling?)`);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        if (r[0] !== chunk[i]) throw new Error(`Expected pair ${chunk[i]} for sample but received pair ${String(r[0])}`);
        out[start + i] = {
          id: r[0] as number,
          dimension: r[1] as string,
          tie: r[2] === 1,
          preferred: { prompt: this.promptText(r[3] as number), imagePath: pathOf(r[5] as string, r[6] as number) },
          rejected: { prompt: this.promptText(r[4] as number), imagePath: pathOf(r[7] as string, r[8] as number) },
        };
      }
    }
    return out;
  }

  private readonly prompts = new Map<number, string>();

  private promptText(id: number): string {
    let text = this.prompts.get(id);
    if (text === undefined) {
      text = this.readPrompt.get(id) as string;
      this.prompts.set(id, text);
    }
    return text;
  }

  private get readRows(): Statement {
    this.rowsStatement ??= this.store.db.prepare(`SELECT p.id, p.dimension, p.tie, p.preferred_prompt_id, p.rejected_prompt_id,
        pi.path, pi.stored, ri.path, ri.stored
      FROM json_each(?) j
      JOIN pairs p ON p.id = j.value
      JOIN images pi ON pi.id = p.preferred_image_id JOIN images ri ON ri.id = p.rejected_image_id`).raw();
    return this.rowsStatement;
  }

  private get readPrompt(): Statement {
    this.promptStatement ??= this.store.db.prepare('SELECT text FROM prompts WHERE id = ?').pluck();
    return this.promptStatement;
  }

  private rowsStatement?: Statement;
  private promptStatement?: Statement;
}

/** Ids per SQL statement when reading sampled rows. */
const READ_CHUNK = 1000;

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`Expected a non-negative integer for n but received ${n}`);
}
