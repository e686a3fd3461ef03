export { Optimizer, type ParamGroup, type GroupSpec } from './optimizer.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { clipGradNorm } from './clip.js';
export { constantSchedule, linearWarmup, cosineSchedule, type LrSchedule } from './schedule.js';
