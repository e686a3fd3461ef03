// types.ts: what the pair strategies emit. A PreferencePair is the feedback store's PairRecord
// (src/data/types.ts): plain data, ready for FeedbackStore.insertPairs. Pairs a strategy cannot
// decide go to the annotation queue as UnlabelledPairs (FeedbackStore.enqueuePairs).
import type { Dimension, Judge } from '../../api/interfaces.js';
import type { CleanLabel, PairRecord, PairSide } from '../types.js';

export type { CleanLabel, PairSide };

/** One labelled comparison in one dimension (= the store's PairRecord). */
export type PreferencePair = PairRecord;

/** Who decided a pair: a strategy's own rule, a simulated expert, or a person's name. */
export type Annotator = 'strategy' | 'sim-expert' | (string & {});

/** A pair no strategy could decide, for the annotation queue; `left` is the first side shown. */
export interface UnlabelledPair {
  dimension: Dimension;
  left: PairSide;
  right: PairSide;
  strategy: string;
  seed: number;
}

export interface StrategyOutput {
  pairs: PreferencePair[];
  queued: UnlabelledPair[];
}

export type PairChoice = 'first' | 'second' | 'tie';

/** Decides pairs a strategy cannot: a simulated expert (src/world/expert.ts) or a person. */
export interface PairAnnotator {
  readonly name: string;
  annotate(dimension: Dimension, first: PairSide, second: PairSide, key?: number): { clean?: PairChoice; noisy: PairChoice };
}

/**
 * Optional ground truth for pairs a strategy decides by rule: the judges say whether the rule was
 * right, recorded as the pair's cleanLabel. Strategies never need it (real models have no judges).
 */
export interface PairVerifier {
  judges: Readonly<Record<Dimension, Judge>>;
  /** Score difference below which the verifier calls a tie. Defaults to 0.02. */
  tieBand?: number;
}
