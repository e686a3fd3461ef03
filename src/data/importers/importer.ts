// importer.ts: what one file format's importer is: a function from one source row to the pairs it
// holds (zero, one, or several: a ranking of n images holds n(n-1)/2).
import type { Choice, PairInput } from '../types.js';

export interface MapContext {
  /** The dimension the pairs go to ("overall" unless the user maps them elsewhere). */
  dimension: string;
  /** Relative image paths are resolved against this directory (the data file's, by default). */
  imageRoot: string;
}

export interface ImportedAnnotation {
  annotator: string;
  choice: Choice;
  createdAt?: number;
  timeSpentMs?: number;
}

export interface MappedPair {
  /** Carries a key: importers always make one, so a rerun adds nothing twice. */
  pair: PairInput & { key: string };
  /** Queue for annotation instead of storing as labelled (preferred = left, rejected = right). */
  queued?: boolean;
  annotations?: ImportedAnnotation[];
}

export interface PairImporter {
  format: string;
  /** One line for --help. */
  description: string;
  /** Throws RowError for a bad row; returns [] for a row that holds no preference (not an error). */
  mapRow(row: Record<string, unknown>, context: MapContext): MappedPair[];
}
