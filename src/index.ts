// treereward: the package's public surface.
export * from './api/index.js';
export { TreeRewardError, type ErrorCode } from './native/errors.js';
export { readSafetensors, writeSafetensors, parseSafetensors, entryToTensor, type SafetensorsFile, type SafetensorsEntry } from './io/safetensors.js';
