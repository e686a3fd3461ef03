// evaluation.ts: one evaluation of several generators, as the demo's evaluate stage and
// `treereward eval` run it, and its file in a run directory (eval/evaluation.json beside the
// records in eval/chunks-<settings>.jsonl and the images kept for the grids). The tables and
// figures are computed from the records by tables.ts; nothing here is a number of its own.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Dimension } from '../api/interfaces.js';
import type { RewardModel } from '../reward/reward-model.js';
import type { ExpertOptions } from '../world/expert.js';
import type { AestheticPredictor } from './metrics/aesthetic.js';
import type { ImageTextEncoder } from './metrics/clip-score.js';
import type { EvalPrompt } from './prompts.js';
import type { ComparisonItem, EvalItem, GeneratorInfo } from './records.js';
import { evaluateSuite, type SuiteOptions } from './suite.js';
import { readJsonl, safeName } from './run/run-dir.js';

export const EVAL_DIR = 'eval';
export const EVALUATION_FILE = join(EVAL_DIR, 'evaluation.json');

export interface GridImage {
  generator: string;
  dimension: Dimension | null;
  /** Position among the prompts of its dimension (the grid's column). */
  column: number;
  prompt: string;
  seed: number;
  /** PNG, relative to the run directory. */
  path: string;
}

export interface EvaluationFile {
  format: 'treereward-evaluation/1';
  generators: GeneratorInfo[];
  /** Generator name pairs [a, b] compared by the simulated expert. */
  comparisons: [string, string][];
  /** The group every other group is measured against (its improvement, Table 3); null: none. */
  base: string | null;
  prompts: { source: string; count: number; perDimension: Partial<Record<Dimension | 'none', number>> };
  seeds: number[];
  expert: { flipRate: number; tieBand: number };
  /** Reward models whose scores the records hold. */
  rewardModels: string[];
  /** Metrics not computed, each with the reason (e.g. the world CLIP does not exist yet). */
  missing: { clip?: string; aesthetic?: string };
  /** Where the CLIP and aesthetic scores came from, when computed. */
  clipSource?: string;
  /** The records: one JSON line per finished chunk (relative to the run directory). */
  records: string;
  grid: { columns: number; images: GridImage[] };
  seconds: number;
}

export interface EvaluateOptions {
  /** Where the records and images go; undefined: kept in memory only (nothing resumable). */
  runDir?: string;
  generators: GeneratorInfo[];
  comparisons: [string, string][];
  base: string | null;
  prompts: EvalPrompt[];
  promptSource: string;
  seeds: number[];
  expert: { flipRate: number; tieBand: number; seed: number };
  rewards?: { name: string; model: RewardModel }[];
  clip?: { encoder: ImageTextEncoder; aesthetic?: AestheticPredictor; source: string };
  missing?: EvaluationFile['missing'];
  /** Prompts per dimension kept as images for the before / after grids. Defaults to 4. */
  gridColumns?: number;
  open?: SuiteOptions['open'];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Evaluation {
  file: EvaluationFile;
  items: EvalItem[];
  comparisonItems: ComparisonItem[];
}

/** Runs the suite and, with a run directory, writes eval/evaluation.json. */
export async function evaluate(o: EvaluateOptions): Promise<Evaluation> {
  const t0 = Date.now();
  const columns = o.gridColumns ?? 4;
  const settings = createHash('sha256').update(JSON.stringify([o.generators, o.comparisons, o.prompts, o.seeds, o.expert, (o.rewards ?? []).map((r) => r.name), o.clip?.source ?? null])).digest('hex').slice(0, 12);
  const records = join(EVAL_DIR, `chunks-${settings}.jsonl`);
  const images: GridImage[] = [];
  const suite = await evaluateSuite({
    generators: o.generators, prompts: o.prompts, seeds: o.seeds, comparisons: o.comparisons,
    expert: o.expert, rewards: o.rewards, clip: o.clip?.encoder, aesthetic: o.clip?.aesthetic,
    resumeFile: o.runDir ? join(o.runDir, records) : undefined,
    keepImage: (item, column) => {
      if (!o.runDir || item.seed !== o.seeds[0] || column >= columns) return null;
      const rel = join(EVAL_DIR, 'images', safeName(item.generator), `${item.dimension ?? 'none'}-${column}.png`);
      images.push({ generator: item.generator, dimension: item.dimension, column, prompt: item.prompt, seed: item.seed, path: rel });
      return join(o.runDir, rel);
    },
    open: o.open, onProgress: o.onProgress, signal: o.signal,
  });
  // Images of chunks read back from an earlier sitting were written then: list them again.
  if (o.runDir) {
    const seen = new Set(images.map((i) => i.path));
    const byDim = new Map<string, number>();
    for (const p of o.prompts) {
      const column = byDim.get(p.dimension ?? 'none') ?? 0;
      byDim.set(p.dimension ?? 'none', column + 1);
      if (column >= columns) continue;
      for (const g of o.generators) {
        const rel = join(EVAL_DIR, 'images', safeName(g.name), `${p.dimension ?? 'none'}-${column}.png`);
        if (!seen.has(rel) && existsSync(join(o.runDir, rel))) images.push({ generator: g.name, dimension: p.dimension, column, prompt: p.prompt, seed: o.seeds[0]!, path: rel });
      }
    }
  }
  const perDimension: EvaluationFile['prompts']['perDimension'] = {};
  for (const p of o.prompts) perDimension[p.dimension ?? 'none'] = (perDimension[p.dimension ?? 'none'] ?? 0) + 1;
  const file: EvaluationFile = {
    format: 'treereward-evaluation/1',
    generators: o.generators, comparisons: o.comparisons, base: o.base,
    prompts: { source: o.promptSource, count: o.prompts.length, perDimension },
    seeds: o.seeds, expert: { flipRate: o.expert.flipRate, tieBand: o.expert.tieBand },
    rewardModels: (o.rewards ?? []).map((r) => r.name),
    missing: o.missing ?? {},
    records,
    grid: { columns, images: images.sort((a, b) => a.path.localeCompare(b.path)) },
    seconds: (Date.now() - t0) / 1000,
  };
  if (o.clip) file.clipSource = o.clip.source;
  if (o.runDir) {
    mkdirSync(join(o.runDir, EVAL_DIR), { recursive: true });
    writeFileSync(join(o.runDir, EVALUATION_FILE), JSON.stringify(file, null, 1));
  }
  return { file, items: suite.items, comparisonItems: suite.comparisons };
}

/** Reads the records of an evaluation file back. */
export function readEvaluationRecords(runDir: string, file: EvaluationFile): { items: EvalItem[]; comparisonItems: ComparisonItem[] } {
  const lines = readJsonl<{ chunk?: number; items?: EvalItem[]; comparisons?: ComparisonItem[] }>(join(runDir, file.records)).filter((l) => l.chunk !== undefined);
  return { items: lines.flatMap((l) => l.items ?? []), comparisonItems: lines.flatMap((l) => l.comparisons ?? []) };
}
