// index.ts: the pair-building strategies of the paper's section 4, and the world dataset builder.
export * from './types.js';
export { ruleDecided, annotatorDecided, verifyPair } from './labelling.js';
export { styleSubstitutionPairs, substituteStyle, STYLE_SUBSTITUTION, type StyleSubstitutionOptions } from './style-substitution.js';
export { contentRecaptionPairs, CONTENT_RECAPTION, type AlignmentScorer, type Captioner, type ContentRecaptionOptions, type RecaptionOutput } from './content-recaption.js';
export { aestheticPairs, triggerPhrase, AESTHETIC_DIMENSIONS, PAIR_SOURCES, type AestheticDimension, type AestheticPairOptions, type PairSource } from './aesthetic-pairs.js';
export { modelSamplePairs, sampleSeeds, MODEL_SAMPLES, type ModelSamplePairOptions } from './model-samples.js';
export { buildWorldPairs, worldPairChunks, dimensionQuotas, type BuildWorldPairsOptions, type WorldPair } from './build-world-pairs.js';
