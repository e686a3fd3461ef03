// cross-sensitivity.ts: the judges' acceptance check. For each dimension j and each of n seeded
// scenes: render the scene and the scene with only j's factor changed, both judged against the
// original scene's full prompt. Diagonal (j, j): the share of scenes where judge j ranks the correct
// rendering strictly first. Off-diagonal (j, i): the mean absolute change of judge i's score.
import { DIMENSIONS } from '../api/interfaces.js';
import type { Dimension } from '../api/interfaces.js';
import { WORLD_JUDGES } from './judges/index.js';
import { describeScene, sampleScene } from './scene.js';
import { changeFactor } from './scene-edits.js';
import { renderScene } from './render/render-scene.js';
import { formatPrompt } from './prompt/index.js';
import { Rng, deriveSeed } from './random.js';

export interface CrossSensitivityOptions {
  /** Scenes per dimension. Defaults to 1000. */
  n?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Image size. Defaults to 64. */
  size?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CrossSensitivityResult {
  n: number;
  size: number;
  /** matrix[j][i]: row = the dimension changed, column = the judge. Diagonal: rank-first rate. */
  matrix: number[][];
  /** Largest mean off-diagonal change per row. */
  worstOffDiagonal: number[];
  /** Per changed dimension, per judge: the largest single absolute change seen (for diagnosis). */
  maxChange: number[][];
}

export function crossSensitivity(options: CrossSensitivityOptions = {}): CrossSensitivityResult {
  const n = options.n ?? 1000;
  const seed = options.seed ?? 0;
  const size = options.size ?? 64;
  const D = DIMENSIONS.length;
  const matrix = DIMENSIONS.map(() => new Array<number>(D).fill(0));
  const maxChange = DIMENSIONS.map(() => new Array<number>(D).fill(0));
  DIMENSIONS.forEach((changed: Dimension, j) => {
    for (let k = 0; k < n; k++) {
      const sceneSeed = deriveSeed(seed, `${changed}:${k}`);
      const scene = sampleScene(sceneSeed);
      const alt = changeFactor(scene, changed, new Rng(deriveSeed(sceneSeed, 'edit')));
      const prompt = formatPrompt(describeScene(scene));
      const a = renderScene(scene, size);
      const b = renderScene(alt, size);
      DIMENSIONS.forEach((dim, i) => {
        const judge = WORLD_JUDGES[dim];
        const sa = judge.score(a, prompt);
        const sb = judge.score(b, prompt);
        if (i === j) matrix[j]![i]! += sa > sb ? 1 : 0;
        else {
          matrix[j]![i]! += Math.abs(sa - sb);
          maxChange[j]![i] = Math.max(maxChange[j]![i]!, Math.abs(sa - sb));
        }
      });
      options.onProgress?.(j * n + k + 1, D * n);
    }
  });
  for (const row of matrix) for (let i = 0; i < D; i++) row[i]! /= n;
  const worstOffDiagonal = matrix.map((row, j) => Math.max(...row.filter((_, i) => i !== j)));
  return { n, size, matrix, worstOffDiagonal, maxChange };
}

/** The matrix as a fixed-width table (rows: dimension changed; columns: judge). */
export function formatMatrix(result: CrossSensitivityResult): string {
  const head = ['changed \\ judge', ...DIMENSIONS].map((s) => s.padStart(9)).join(' ');
  const rows = DIMENSIONS.map((dim, j) => [dim.padStart(9), ...result.matrix[j]!.map((v, i) => (i === j ? `${(100 * v).toFixed(1)}%` : v.toFixed(4)).padStart(9))].join(' '));
  return [head, ...rows].join('\n');
}
