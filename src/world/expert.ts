// expert.ts: simulated experts, standing in for the paper's human annotators. An expert compares
// two images (each with its own prompt) in one dimension with that dimension's judge: scores within
// the tie band are a tie, otherwise the higher score wins (the clean label). It then disagrees with
// the clean label at the configured rate (the noisy label): a win becomes a loss, a tie a random win.
// Both labels are returned, so a dataset can store what the expert said and what was true.
import type { Dimension, Judge, RgbImage } from '../api/interfaces.js';
import { WORLD_JUDGES } from './judges/index.js';
import { Rng, deriveSeed } from './random.js';

export type ExpertChoice = 'first' | 'second' | 'tie';

export interface ExpertSide {
  prompt: string;
  image: RgbImage;
}

export interface ExpertVerdict {
  /** What the judge says. */
  clean: ExpertChoice;
  /** What the expert says: the clean label, flipped at the disagreement rate. */
  noisy: ExpertChoice;
  /** The judge's scores of the first and second side. */
  scores: [number, number];
}

export interface ExpertOptions {
  /** Probability that the expert disagrees with the judge. Defaults to 0.1. */
  flipRate?: number;
  /** Score difference below which the judge calls a tie. Defaults to 0.02. */
  tieBand?: number;
  /** Seeds the expert's disagreements. Defaults to 0. */
  seed?: number;
  /** The judges to consult. Defaults to the world's. */
  judges?: Readonly<Record<Dimension, Judge>>;
}

export class SimulatedExpert {
  readonly name = 'sim-expert';
  readonly flipRate: number;
  readonly tieBand: number;
  private readonly seed: number;
  private readonly judges: Readonly<Record<Dimension, Judge>>;
  private count = 0;

  constructor(options: ExpertOptions = {}) {
    this.flipRate = options.flipRate ?? 0.1;
    this.tieBand = options.tieBand ?? 0.02;
    if (!(this.flipRate >= 0 && this.flipRate <= 1)) throw new Error(`Expected a number in [0, 1] for flipRate but received ${this.flipRate}`);
    if (!(this.tieBand >= 0 && this.tieBand < 1)) throw new Error(`Expected a number in [0, 1) for tieBand but received ${this.tieBand}`);
    this.seed = options.seed ?? 0;
    this.judges = options.judges ?? WORLD_JUDGES;
  }

  /**
   * Annotates one pair. `key` seeds this verdict's disagreement (defaults to a running count, so a
   * fixed sequence of calls is reproducible; pass the pair's seed to make each verdict independent
   * of call order).
   */
  annotate(dimension: Dimension, first: ExpertSide, second: ExpertSide, key?: number): ExpertVerdict {
    const judge = this.judges[dimension];
    if (!judge) throw new Error(`Expected a dimension with a judge for dimension but received ${JSON.stringify(dimension)}`);
    const a = judge.score(first.image, first.prompt);
    const b = judge.score(second.image, second.prompt);
    const clean: ExpertChoice = Math.abs(a - b) < this.tieBand ? 'tie' : a > b ? 'first' : 'second';
    const rng = new Rng(deriveSeed(this.seed, key ?? this.count++));
    let noisy = clean;
    if (rng.chance(this.flipRate)) noisy = clean === 'first' ? 'second' : clean === 'second' ? 'first' : rng.chance(0.5) ? 'first' : 'second';
    return { clean, noisy, scores: [a, b] };
  }
}
