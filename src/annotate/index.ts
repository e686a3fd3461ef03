// index.ts: the annotation app's public surface.
export { startAnnotationServer, type AnnotationServerOptions, type RunningServer } from './run-server.js';
export { buildServer, PUBLIC_DIR } from './server.js';
export { WorkQueue, DEFAULT_LEASE_MS, type WorkQueueOptions, type LeaseView, type LabelResult } from './work-queue.js';
export { addUser, listUsers, userByToken, type Annotator } from './users.js';
export { addAbSet, listAbSets, abSetInfo, type AbSetInput, type AbItemInput, type AbSetInfo } from './ab-sets.js';
export { readAbFolders, readAbJsonl, AB_LIST_FILE, type AbImport } from './ab-import.js';
export { abSummary, type AbSummary, type AbItemSummary, type WinTieLoss, type AbOutcome } from './ab-summary.js';
export { labelLines } from './label-export.js';
export { DIMENSION_GUIDES, OVERALL_GUIDE, guideOf } from './guides.js';
export type { LeaseRequest, Progress, ShownChoice } from './task-source.js';
