// labelling.ts: turning a candidate pair into a record: by the strategy's rule (preferred first),
// by an annotator's verdict, or, with no annotator, into the annotation queue.
import type { Dimension } from '../../api/interfaces.js';
import type { CleanLabel, PairAnnotator, PairChoice, PairSide, PairVerifier, PreferencePair, UnlabelledPair } from './types.js';

/** The clean label of a recorded orientation from a verifier's judge (undefined without one). */
export function verifyPair(verifier: PairVerifier | undefined, dimension: Dimension, preferred: PairSide, rejected: PairSide): CleanLabel | undefined {
  if (!verifier) return undefined;
  const judge = verifier.judges[dimension];
  const p = judge.score(preferred.image, preferred.prompt);
  const r = judge.score(rejected.image, rejected.prompt);
  return Math.abs(p - r) < (verifier.tieBand ?? 0.02) ? 'tie' : p > r ? 'preferred' : 'rejected';
}

/** A pair decided by a strategy's rule: `preferred` wins. */
export function ruleDecided(dimension: Dimension, preferred: PairSide, rejected: PairSide, strategy: string, seed: number, verifier?: PairVerifier): PreferencePair {
  const cleanLabel = verifyPair(verifier, dimension, preferred, rejected);
  return { dimension, preferred, rejected, strategy, annotator: 'strategy', tie: false, ...(cleanLabel ? { cleanLabel } : {}), seed };
}

function cleanRelative(clean: PairChoice | undefined, recordedFirst: boolean): CleanLabel | undefined {
  if (clean === undefined) return undefined;
  if (clean === 'tie') return 'tie';
  return (clean === 'first') === recordedFirst ? 'preferred' : 'rejected';
}

/** A pair an annotator decides, or (without one) a queued pair. */
export function annotatorDecided(
  dimension: Dimension,
  first: PairSide,
  second: PairSide,
  strategy: string,
  seed: number,
  annotator: PairAnnotator | undefined,
): { pair?: PreferencePair; queued?: UnlabelledPair } {
  if (!annotator) return { queued: { dimension, left: first, right: second, strategy, seed } };
  const verdict = annotator.annotate(dimension, first, second, seed);
  const firstWins = verdict.noisy !== 'second';
  const cleanLabel = cleanRelative(verdict.clean, firstWins);
  return {
    pair: {
      dimension,
      preferred: firstWins ? first : second,
      rejected: firstWins ? second : first,
      strategy,
      annotator: annotator.name,
      tie: verdict.noisy === 'tie',
      ...(cleanLabel ? { cleanLabel } : {}),
      seed,
    },
  };
}

export function checkBatch(prompts: readonly string[], seeds: readonly number[], name: string): void {
  if (prompts.length !== seeds.length) throw new Error(`Expected as many seeds as prompts (${prompts.length}) for ${name}.seeds but received ${seeds.length}`);
}
