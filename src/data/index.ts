// index.ts: feedback data for the package's users: the store, and pairs built by the paper's strategies
// on the synthetic world (simulated experts decide them).
export { FeedbackStore, storeStats, exportJsonl, type InsertResult, type OpenOptions, type StoreStats } from './store/index.js';
export { buildWorldPairs, worldPairChunks, dimensionQuotas, type BuildWorldPairsOptions, type WorldPair } from './strategies/build-world-pairs.js';
