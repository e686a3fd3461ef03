// treereward: the package's public surface.
export * from './api/index.js';
export { TreeRewardError, type ErrorCode } from './native/errors.js';
