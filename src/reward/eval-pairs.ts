// eval-pairs.ts: the labelled pairs of a split, read from the store for evaluation, oriented by the
// labels asked for: 'noisy' as recorded (what annotators said) or 'clean' (the simulated expert's
// noise-free label: a flipped record is turned back, a clean tie becomes a tie).
import type { FeedbackStore } from '../data/store/index.js';
import type { Split } from '../data/types.js';
import { ImageCache, type TrainingPair } from './pair-source.js';

export async function evaluationPairs(
  store: FeedbackStore,
  options: { split?: Split; labels?: 'clean' | 'noisy'; limit?: number; dimensions?: string[]; cache?: ImageCache } = {},
): Promise<TrainingPair[]> {
  const split = options.split ?? 'test', labels = options.labels ?? 'clean';
  const cache = options.cache ?? new ImageCache();
  const ids = store.db.prepare('SELECT id FROM pairs WHERE labelled = 1 AND split = ? ORDER BY id').pluck().all(split) as number[];
  const out: TrainingPair[] = [];
  for (const id of ids) {
    if (options.limit !== undefined && out.length >= options.limit) break;
    const p = store.getPair(id)!;
    if (options.dimensions && !options.dimensions.includes(p.dimension)) continue;
    let winner = p.preferred, loser = p.rejected, tie = p.tie;
    if (labels === 'clean') {
      if (p.cleanLabel === null) continue; // no clean label known: not part of a clean evaluation
      if (p.cleanLabel === 'rejected') [winner, loser] = [loser, winner];
      tie = p.cleanLabel === 'tie';
    }
    out.push({
      dimension: p.dimension,
      tie,
      winner: { prompt: winner.prompt, image: await cache.get(store.imagePath(winner.image)) },
      loser: { prompt: loser.prompt, image: await cache.get(store.imagePath(loser.image)) },
    });
  }
  return out;
}
