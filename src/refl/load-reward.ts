// load-reward.ts: the reward model a ReFL config names (a reward model directory, or an ImageReward
// checkpoint with BLIP's tokenizer), and freezing it: its weights get no gradient, but the gradient
// of R flows through it to the image.
import { resolve } from 'node:path';

import { ImageRewardScorer } from '../models/imagereward.js';
import { loadRewardModel } from '../reward/checkpoint.js';
import type { RewardModel } from '../reward/reward-model.js';
import { loadTokenizer } from '../tokenizers/index.js';
import type { ReflConfig } from './config.js';
import { ImageRewardModel } from './imagereward-reward.js';

/** Loads the reward of config.reward; relative paths resolve against `baseDir`. */
export function loadReflReward(spec: NonNullable<ReflConfig['reward']>, baseDir = '.'): RewardModel {
  if (typeof spec === 'string') return loadRewardModel(resolve(baseDir, spec));
  const scorer = ImageRewardScorer.fromSafetensors(resolve(baseDir, spec.weights), spec.blip as never);
  try {
    return new ImageRewardModel(scorer, loadTokenizer(resolve(baseDir, spec.tokenizer)));
  } catch (err) {
    scorer.dispose();
    throw err;
  }
}

/** No reward weight keeps a gradient; with checkpointing, a backbone that can recompute its layers does. */
export function freezeReward(reward: RewardModel, checkpointing: boolean): void {
  for (const p of reward.parameters().values()) p.requiresGrad = false;
  const r = reward as RewardModel & { checkpointing?: boolean };
  if (checkpointing && typeof r.checkpointing === 'boolean') r.checkpointing = true;
}
