// array-pair-source.ts: a PairSource over pairs held in memory (tests, small experiments): batch k
// is a fixed function of (seed, k), drawn with replacement.
import { SeededRandom } from '../data/store/prng.js';
import type { PairRecord } from '../data/types.js';
import type { PairSource, TrainingPair } from './pair-source.js';

export class ArrayPairSource implements PairSource {
  constructor(readonly pairs: TrainingPair[], readonly seed = 0) {}

  static fromRecords(records: readonly PairRecord[], seed = 0): ArrayPairSource {
    return new ArrayPairSource(records.map((r) => ({ dimension: r.dimension, tie: r.tie, winner: r.preferred, loser: r.rejected })), seed);
  }

  async batch(index: number, size: number): Promise<TrainingPair[]> {
    const rng = new SeededRandom(this.seed * 1_000_003 + index);
    return Array.from({ length: size }, () => this.pairs[rng.int(this.pairs.length)]);
  }
}
