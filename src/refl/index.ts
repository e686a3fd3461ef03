// index.ts: ReFL (the paper's section 5.2) and DRaFT-K over any RewardModel, LoRA, and the experiment runner.
export { parseReflConfig, reflConfigSchema, type ReflConfig, type ReflConfigInput, type ReflMethod, type RewardSelect } from './config.js';
export { runRefl, REFL_TASK, type ReflProgress, type ReflResult, type ReflRuntime } from './run-refl.js';
export { reflStep, NonFiniteValue, type ReflStepContext, type ReflStepResult } from './refl-step.js';
export { sampleWithGradient, drawStopIndex, runPredictor, type RewardSample, type RewardSampling } from './reward-sample.js';
export { selectReward, rewardLoss, leafMeans, branchMeans } from './reward-objective.js';
export { attachLora, baseParameters, isLoraParameter, loraParameters, mergeLora, mergedWeights, saveLora } from './lora.js';
export { pretrainFromCallback, pretrainFromList, pretrainFromStore, type CaptionedImage, type PretrainSource } from './pretrain-data.js';
export { freezeReward, loadReflReward } from './load-reward.js';
export { ImageRewardModel } from './imagereward-reward.js';
export { bilinearResize, interpolationMatrix } from '../reward/bilinear-resize.js';
export { RunLog, type EventRecord, type StepRecord } from './run-log.js';
export { writeSampleGrid, type GridSettings } from './sample-grid.js';
export { runExperiment, experimentConfigSchema, type DimensionScores, type ExperimentConfig, type ExperimentConfigInput, type ExperimentProgress, type ExperimentResult, type ExperimentRuntime, type RewardSummary } from './experiment.js';
