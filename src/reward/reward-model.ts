// reward-model.ts: the RewardModel interface every reward implements (the tree, the baselines, an
// ImageReward checkpoint). ReFL and evaluation only see this. Reward code never imports the judges.
import type { Device, Tensor } from '../api/index.js';

export interface RewardOutput {
  /** R (B): the aggregate reward; differentiable with respect to the images. */
  reward: Tensor;
  /** (B, leaves) per-leaf scores (normalised), where the model has leaves. */
  leafScores?: Tensor;
  /** (B, branches) branch weights w_b, where the model has branches. */
  branchWeights?: Tensor;
  leaves?: string[];
  branches?: string[];
}

export interface RewardModel {
  readonly name: string;
  /** Square input size in pixels the model scores at. */
  readonly imageSize: number;
  /** images (B, 3, H, W) float32 in [0, 1] (resized to imageSize inside); one prompt per image. */
  score(prompts: string[], images: Tensor): RewardOutput;
  /** Every trainable tensor by name. */
  parameters(): Map<string, Tensor>;
  /** Moves every part to a device (ReFL on cuda moves its reward model there). */
  to?(device: Device): this;
  dispose(): void;
}
