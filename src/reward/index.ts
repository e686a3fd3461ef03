// The reward models: the tree (paper section 5.1, eq. 4-8), the baselines of its Table 4, training,
// evaluation and checkpoints.
export { type RewardModel, type RewardOutput } from './reward-model.js';
export { DEFAULT_TREE, resolveTree, treeSpecSchema, type TreeSpec, type TreeSpecInput, type ResolvedTree } from './tree-spec.js';
export { aggregate, type Aggregated } from './aggregate.js';
export { TreeHeads, type TreeOutput, type LeafNormalisation } from './tree-heads.js';
export { TreeReward, type TreeRewardParts } from './tree-reward.js';
export { routingLoss, bradleyTerryLoss, tieLoss } from './losses.js';
export { trainTreeReward, treeLoss, freezeBackbone, type TreeTrainOptions, type TreeTrainResult } from './train-tree.js';
export { runRewardLoop, type LoopOptions, type LoopResult } from './train-loop.js';
export { SingleHeadReward, trainSingleHead, singleHeadLoss, type SingleHeadTrainOptions } from './single-head.js';
export { DecoupledReward, trainDecoupled, onlyDimension } from './decouple.js';
export { buildReward, REWARD_VARIANTS, type RewardVariant, type BuildRewardOptions } from './build-reward.js';
export { pairwiseAccuracy, routingAccuracy, type AccuracyReport } from './evaluate.js';
export { evaluationPairs } from './eval-pairs.js';
export { calibrateTree, calibrateSingle } from './calibrate.js';
export { saveRewardModel, loadRewardModel, type RewardJson } from './checkpoint.js';
export { StorePairSource, ImageCache, type PairSource, type TrainingPair, type TrainingSide } from './pair-source.js';
export { ArrayPairSource } from './array-pair-source.js';
export { imagesToTensor, resizeTo, normalise as normaliseForBlip } from './preprocess.js';
