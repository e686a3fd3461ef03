// types.ts: the records that flow into and out of the feedback store. Pair strategies emit
// `PairRecord`s; importers and the JSONL reader emit `PairInput`s (a PairRecord whose images may also
// be file references or encoded bytes); the store hands back `StoredPair`s and `SampledPair`s.
import type { RgbImage } from '../api/interfaces.js';

/**
 * A feedback dimension: one of the six of the paper (`DIMENSIONS` in src/api/interfaces.ts) or a
 * user-defined one such as "overall" (what imported datasets map to by default).
 */
export type DimensionName = string;

/** The three splits; a pair's split is decided by the hash of its preferred prompt's text. */
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/**
 * The noise-free label of a pair, relative to the orientation it was recorded in: 'preferred' when
 * the recorded preferred side really is better, 'rejected' when the recorded label is flipped (a
 * simulated expert's disagreement), 'tie' when neither is better.
 */
export const CLEAN_LABELS = ['preferred', 'rejected', 'tie'] as const;
export type CleanLabel = (typeof CLEAN_LABELS)[number];

/** One side of a pair as a pair strategy emits it: the prompt and the rendered pixels. */
export interface PairSide {
  prompt: string;
  image: RgbImage;
}

/** What a pair strategy (src/data/strategies/) emits: one labelled comparison in one dimension. */
export interface PairRecord {
  dimension: DimensionName;
  preferred: PairSide;
  rejected: PairSide;
  /** The strategy that built the pair, e.g. "style-substitution", or "expert" for annotation. */
  strategy: string;
  /** Who decided the preference: a strategy's rule, a simulated expert, a person. */
  annotator: string;
  /** Neither side is better; preferred/rejected is then an arbitrary order. */
  tie: boolean;
  /** The noise-free label, where the builder knows it (simulated experts do). */
  cleanLabel?: CleanLabel;
  seed: number;
}

/** An image file that stays where it is: the store keeps the path (and nothing else). */
export interface ImageReference {
  path: string;
  width?: number;
  height?: number;
  /** sha256 of the file's bytes, where known (the JSONL export writes it). */
  sha256?: string;
}

/** Encoded image bytes (PNG, JPEG, WebP...): decoded and stored content-addressed as PNG. */
export interface EncodedImage {
  bytes: Uint8Array;
}

/** Anything the store accepts as an image: pixels and encoded bytes are stored, references are kept. */
export type ImageSource = RgbImage | ImageReference | EncodedImage;

export interface PairInputSide {
  prompt: string;
  image: ImageSource;
}

/**
 * What `FeedbackStore.insertPairs` accepts: a PairRecord, or one from an importer whose images
 * are references or bytes. `key` makes the insert idempotent: a second record with the same key is
 * skipped (importers derive it from the record's content, so a rerun adds nothing twice).
 */
export interface PairInput {
  dimension: DimensionName;
  preferred: PairInputSide;
  rejected: PairInputSide;
  strategy: string;
  annotator: string;
  tie: boolean;
  cleanLabel?: CleanLabel;
  seed?: number;
  key?: string;
  /** Milliseconds since the epoch; defaults to now. */
  createdAt?: number;
  /** The label was resolved from the pair's annotations (they, not `annotator`, are its judgements). Defaults to false. */
  fromAnnotations?: boolean;
}

/** A pair waiting for annotation: two sides, no preference yet. `left` is the side annotations call "left". */
export interface UnlabelledPairInput {
  dimension: DimensionName;
  left: PairInputSide;
  right: PairInputSide;
  strategy: string;
  seed?: number;
  key?: string;
  createdAt?: number;
}

/** What an annotator chose; 'left' is the pair's preferred_* side as stored (the `left` of an unlabelled pair). */
export const CHOICES = ['left', 'right', 'tie', 'skip'] as const;
export type Choice = (typeof CHOICES)[number];

export interface AnnotationInput {
  pairId: number;
  annotator: string;
  choice: Choice;
  /** Time the annotator spent on the pair, in milliseconds. */
  timeSpentMs?: number;
  /** Milliseconds since the epoch; defaults to now. */
  createdAt?: number;
}

export interface Annotation extends Required<AnnotationInput> {
  id: number;
}

/** An image row: `stored` images live under DIR/images/ (path relative to DIR), references anywhere. */
export interface StoredImage {
  id: number;
  path: string;
  stored: boolean;
  sha256: string | null;
  width: number | null;
  height: number | null;
}

export interface StoredSide {
  promptId: number;
  prompt: string;
  image: StoredImage;
}

/** A pair row as `FeedbackStore.getPair` returns it. */
export interface StoredPair {
  id: number;
  dimension: DimensionName;
  /** For an unlabelled pair, `preferred` is the left side and `rejected` the right one. */
  preferred: StoredSide;
  rejected: StoredSide;
  split: Split;
  strategy: string;
  annotator: string;
  labelled: boolean;
  /** The label was resolved from annotations (see `FeedbackStore.resolveAnnotations`). */
  fromAnnotations: boolean;
  tie: boolean;
  cleanLabel: CleanLabel | null;
  seed: number | null;
  key: string | null;
  createdAt: number;
}

/** What the training sampler returns for one pair: enough to load both images and score them. */
export interface SampledPair {
  id: number;
  dimension: DimensionName;
  tie: boolean;
  preferred: { prompt: string; imagePath: string };
  rejected: { prompt: string; imagePath: string };
}
