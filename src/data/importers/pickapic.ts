// pickapic.ts: Pick-a-Pic rows: "caption", the two images as embedded bytes "jpg_0" / "jpg_1"
// (Parquet binary, a {bytes} struct, or base64 in JSONL; stored content-addressed) or, without bytes,
// paths or URLs in "image_0_path" / "image_1_path" / "image_0_url" / "image_1_url", and the labels
// "label_0" / "label_1" (1 and 0: that image wins; 0.5 and 0.5: a tie). Rows with has_label false
// hold no preference and are passed over (counted, not errors).
import { sha256Hex } from '../store/image-files.js';
import type { ImageSource } from '../types.js';
import { describeValue, imageBytes, imageReference, optionalString, pick, recordKey, requireNumber, requireString, RowError } from './fields.js';
import type { MappedPair, MapContext, PairImporter } from './importer.js';

function imageOf(row: Record<string, unknown>, i: 0 | 1, context: MapContext): { image: ImageSource; identity: string } {
  const bytesField = `jpg_${i}`;
  if (row[bytesField] !== undefined && row[bytesField] !== null) {
    const image = imageBytes(row, bytesField);
    return { image, identity: `sha256:${sha256Hex(image.bytes)}` };
  }
  const { value } = pick(row, [`image_${i}_path`, `image_${i}_url`]);
  if (typeof value !== 'string' || value === '') {
    throw new RowError(`Expected image bytes for ${bytesField} (or a path in image_${i}_path) but received ${describeValue(row[bytesField])}`);
  }
  return { image: imageReference(value, context.imageRoot), identity: value };
}

export const pickapicImporter: PairImporter = {
  format: 'pickapic',
  description: 'Pick-a-Pic: caption, jpg_0, jpg_1 (bytes), label_0, label_1 (Parquet, JSONL or JSON)',
  mapRow(row: Record<string, unknown>, context: MapContext): MappedPair[] {
    if (row.has_label === false || row.has_label === 0) return [];
    const caption = requireString(row, ['caption', 'prompt']);
    const label0 = requireNumber(row, ['label_0']);
    const label1 = requireNumber(row, ['label_1']);
    if (label0 < 0 || label1 < 0 || Math.abs(label0 + label1 - 1) > 1e-6) {
      throw new RowError(`Expected labels that add up to 1 (1/0, 0/1 or 0.5/0.5) for label_0 and label_1 but received ${label0} and ${label1}`);
    }
    const a = imageOf(row, 0, context);
    const b = imageOf(row, 1, context);
    const user = optionalString(row, ['user_id', 'annotator']);
    const annotator = user === undefined ? 'pickapic' : `pickapic-user:${user}`;
    const tie = label0 === label1;
    const [win, lose] = label1 > label0 ? [b, a] : [a, b];
    const ranking = optionalString(row, ['ranking_id']);
    return [{
      pair: {
        dimension: context.dimension,
        preferred: { prompt: caption, image: win.image },
        rejected: { prompt: caption, image: lose.image },
        strategy: 'import:pickapic',
        annotator,
        tie,
        key: recordKey('pickapic', context.dimension, ranking !== undefined ? [ranking] : [caption, win.identity, lose.identity, tie, annotator]),
      },
    }];
  },
};
