// judge-scores.ts: the six world judges on generated images. Every image is scored in every
// dimension (cheap, and it shows what tuning for one dimension does to the others); the tables use
// each dimension's own prompts. Only evaluation and the data strategies' experts use judges.
import { DIMENSIONS, type Dimension, type Judge, type RgbImage } from '../../api/interfaces.js';
import { WORLD_JUDGES } from '../../world/judges/index.js';

/** Scores in DIMENSIONS order, each in [0, 1]. */
export type JudgeVector = number[];

export function judgeScores(image: RgbImage, prompt: string, judges: Readonly<Record<Dimension, Judge>> = WORLD_JUDGES): JudgeVector {
  return DIMENSIONS.map((d) => judges[d].score(image, prompt));
}

/** One vector per (image, prompt). */
export function judgeAll(images: readonly RgbImage[], prompts: readonly string[], judges: Readonly<Record<Dimension, Judge>> = WORLD_JUDGES): JudgeVector[] {
  if (images.length !== prompts.length) throw new Error(`Expected one prompt per image (${images.length}) for prompts but received ${prompts.length}`);
  return images.map((img, i) => judgeScores(img, prompts[i]!, judges));
}
