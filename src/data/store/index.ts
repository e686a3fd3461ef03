// index.ts: the feedback store's public surface.
export { FeedbackStore, DATABASE_FILE, type InsertResult, type OpenOptions } from './feedback-store.js';
export { PairSampler, type SampledIds, type SamplerOptions } from './sampler.js';
export { storeStats, type StoreStats } from './stats.js';
export { agreementOf, cohensKappa, type AgreementSummary, type Judgement } from './agreement.js';
export { exportJsonl, pairLine, type PairLine } from './jsonl-export.js';
export { renderPairGrid, type GridOptions } from './pair-grid.js';
export { DEFAULT_SPLIT_FRACTIONS, normalisePrompt, splitOfPrompt, type SplitFractions } from './split.js';
export { SeededRandom } from './prng.js';
