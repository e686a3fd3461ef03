// records.ts: what an evaluation stores, one record per generated image and one per compared pair
// of images, so every table and figure is recomputed from them (and a resumed evaluation appends).
import type { Dimension } from '../api/interfaces.js';

/** A generator under evaluation. */
export interface GeneratorInfo {
  /** Unique in the run: "base", "tuned-tree/seed-1", ... */
  name: string;
  /** Generators of one group differ only by training seed ("tuned-tree"); tables pool a group. */
  group: string;
  /** Training seed within the group (0 for a group of one). */
  run: number;
  /** What --model would be: a model directory or world:quality=Q. */
  spec: string;
  /** Shown in tables and figures. */
  label: string;
  /** Set when the generator stands in for one that does not exist yet (says what it stands in for). */
  standIn?: string;
}

/** One generated image: its prompt, seed and scores. */
export interface EvalItem {
  generator: string;
  prompt: string;
  dimension: Dimension | null;
  seed: number;
  /** The six judges in DIMENSIONS order, each in [0, 1]. */
  judges: number[];
  clip?: number;
  aesthetic?: number;
  /** Each reward model's aggregate score, by reward name. */
  rewards?: Record<string, number>;
  /** Leaf scores of reward models with leaves: rewardName -> leaf -> score. */
  leaves?: Record<string, Record<string, number>>;
}

export type Outcome = 'win' | 'tie' | 'loss';

/** Generator a against generator b on one prompt and seed, from a's side. */
export interface ComparisonItem {
  a: string;
  b: string;
  prompt: string;
  dimension: Dimension | null;
  seed: number;
  /** What the simulated expert said (with its disagreement rate). */
  expert: Outcome;
  /** What the judge said (the expert's clean label). */
  judge: Outcome;
}
