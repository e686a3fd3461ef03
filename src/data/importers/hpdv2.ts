// hpdv2.ts: Human Preference Dataset v2 rows: a prompt, two or more image paths ("image_path" or
// "file_path"), and either "human_preference" (one score per image, higher preferred: the train
// split's [1, 0]; or the index of the preferred image) or "rank" (one rank per image, lower better:
// the test split). A ranking of n images holds n(n-1)/2 pairs; equal ranks are ties; a one-hot
// preference over n > 2 images only says the chosen one beats each other one.
import { imageReference, optionalString, pick, recordKey, requireNumberList, requireString, requireStringList, RowError } from './fields.js';
import type { MappedPair, MapContext, PairImporter } from './importer.js';

export const hpdv2Importer: PairImporter = {
  format: 'hpdv2',
  description: 'HPDv2: prompt, image_path or file_path, human_preference or rank (JSONL, JSON or Parquet)',
  mapRow(row: Record<string, unknown>, context: MapContext): MappedPair[] {
    const prompt = requireString(row, ['prompt']);
    const paths = requireStringList(row, ['image_path', 'file_path', 'image_paths'], 2);
    const annotator = optionalString(row, ['user_hash', 'annotator']) ?? 'hpdv2';
    // better[i][j]: 1 if image i beats j, 0 tie, -1 loses; only the pairs the labels decide.
    const comparisons: [number, number, number][] = [];
    if (row.rank !== undefined && row.rank !== null) {
      const rank = requireNumberList(row, 'rank', paths.length);
      for (let i = 0; i < paths.length; i++) for (let j = i + 1; j < paths.length; j++) comparisons.push([i, j, Math.sign(rank[j] - rank[i])]);
    } else {
      const { value } = pick(row, ['human_preference']);
      if (typeof value === 'number') {
        if (!Number.isInteger(value) || value < 0 || value >= paths.length) {
          throw new RowError(`Expected an image index below ${paths.length} for human_preference but received ${value}`);
        }
        for (let j = 0; j < paths.length; j++) if (j !== value) comparisons.push([value, j, 1]);
      } else if (value !== undefined) {
        const pref = requireNumberList(row, 'human_preference', paths.length);
        if (paths.length === 2) {
          comparisons.push([0, 1, Math.sign(pref[0] - pref[1])]);
        } else {
          const top = Math.max(...pref);
          const winners = pref.flatMap((p, i) => (p === top ? [i] : []));
          if (winners.length !== 1) throw new RowError(`Expected one preferred image among ${paths.length} for human_preference but received ${JSON.stringify(pref)}`);
          for (let j = 0; j < paths.length; j++) if (j !== winners[0]) comparisons.push([winners[0], j, 1]);
        }
      } else {
        throw new RowError('Expected a list of numbers for human_preference or rank but received nothing (missing)');
      }
    }
    if (new Set(paths).size !== paths.length) throw new RowError(`Expected different images for ${'image_path'} but received repeated paths`);
    return comparisons.map(([i, j, sign]) => {
      const [win, lose] = sign < 0 ? [j, i] : [i, j];
      return {
        pair: {
          dimension: context.dimension,
          preferred: { prompt, image: imageReference(paths[win], context.imageRoot) },
          rejected: { prompt, image: imageReference(paths[lose], context.imageRoot) },
          strategy: 'import:hpdv2',
          annotator,
          tie: sign === 0,
          key: recordKey('hpdv2', context.dimension, [prompt, paths[win], paths[lose], sign === 0, annotator]),
        },
      };
    });
  },
};
