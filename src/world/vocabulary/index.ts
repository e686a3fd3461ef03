// index.ts: the world's vocabulary: the words, what each means, and the vocabulary in use.
export * from './types.js';
export { DEFAULT_VOCABULARY } from './data.js';
export * from './registry.js';
export { shapeGeometry, type Sdf, type ShapeGeometry } from './shapes.js';
export { patternValue } from './patterns.js';
export { fieldShape, lightingGain, lightingVariants } from './lighting-fields.js';
