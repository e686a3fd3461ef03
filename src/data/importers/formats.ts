// formats.ts: the importers by format name (what `treereward data import --format` accepts).
import { hpdv2Importer } from './hpdv2.js';
import type { PairImporter } from './importer.js';
import { imagerewardImporter } from './imagereward.js';
import { pickapicImporter } from './pickapic.js';
import { treerewardImporter } from './treereward.js';

export const IMPORTERS: Record<string, PairImporter> = {
  imagereward: imagerewardImporter,
  hpdv2: hpdv2Importer,
  pickapic: pickapicImporter,
  treereward: treerewardImporter,
};

export const FORMATS = Object.keys(IMPORTERS);

export function importerFor(format: string): PairImporter {
  const importer = IMPORTERS[format];
  if (!importer) throw new Error(`Expected one of ${FORMATS.join(', ')} for --format but received ${JSON.stringify(format)}`);
  return importer;
}
