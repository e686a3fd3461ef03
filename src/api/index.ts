export { Tensor, type TypedData } from './tensor.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, randn, rand, Rng, manualSeed, defaultGenerator, type CreateOptions } from './create.js';
export * as F from './functional.js';
export { noGrad, enableGrad, isGradEnabled, checkpoint } from './autograd.js';
export { tidy, keep } from './scope.js';
export { memoryStats, v8ExternalMemory, resetPeakMemory, numThreads, setNumThreads, hasCuda, buildInfo, type MemoryStats } from './memory.js';
export * from './optim/index.js';
export { DTYPES, type DType, type Device } from './dtype.js';
export * from './interfaces.js';
