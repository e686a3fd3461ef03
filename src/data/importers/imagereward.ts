// imagereward.ts: ImageRewardDB pair records, one comparison per row:
//   { "prompt": "...", "img_better": "images/a.png", "img_worse": "images/b.png" }
// ("text" is accepted for "prompt"; optional "annotator"/"user_id"). Images stay where they are.
import { imageReference, optionalString, recordKey, requireString, RowError } from './fields.js';
import type { MappedPair, MapContext, PairImporter } from './importer.js';

export const imagerewardImporter: PairImporter = {
  format: 'imagereward',
  description: 'ImageRewardDB pairs: prompt, img_better, img_worse (JSONL, JSON or Parquet)',
  mapRow(row: Record<string, unknown>, context: MapContext): MappedPair[] {
    const prompt = requireString(row, ['prompt', 'text']);
    const better = requireString(row, ['img_better']);
    const worse = requireString(row, ['img_worse']);
    if (better === worse) throw new RowError(`Expected two different images for img_better and img_worse but received ${JSON.stringify(better)} twice`);
    const annotator = optionalString(row, ['annotator', 'user_id']) ?? 'imagereward';
    return [{
      pair: {
        dimension: context.dimension,
        preferred: { prompt, image: imageReference(better, context.imageRoot) },
        rejected: { prompt, image: imageReference(worse, context.imageRoot) },
        strategy: 'import:imagereward',
        annotator,
        tie: false,
        key: recordKey('imagereward', context.dimension, [prompt, better, worse, annotator]),
      },
    }];
  },
};
