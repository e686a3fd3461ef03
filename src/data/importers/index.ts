// index.ts: importers of users' preference data into the feedback store.
export { FORMATS, IMPORTERS, importerFor } from './formats.js';
export { ImportFailedError, importFile, type BadRow, type ImportOptions, type ImportProgress, type ImportReport, type OnError } from './import-runner.js';
export type { MapContext, MappedPair, PairImporter } from './importer.js';
export { RowError } from './fields.js';
