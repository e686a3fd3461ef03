// build-reward.ts: making a fresh reward model of one of the paper's four variants, with a world
// BLIP backbone (pretrained weights when a directory is given) and the word tokenizer of the data.
import { readSafetensors } from '../io/safetensors.js';
import { BlipBackbone } from '../models/blip.js';
import type { BlipConfigInput, BlipPresetName } from '../models/blip-configs.js';
import { TreeRewardError } from '../native/errors.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { DecoupledReward } from './decouple.js';
import type { RewardModel } from './reward-model.js';
import { SingleHeadReward } from './single-head.js';
import { TreeReward } from './tree-reward.js';
import { DEFAULT_TREE, resolveTree, type TreeSpecInput } from './tree-spec.js';

/** The reward variants of the paper's ablation (Table 4), named the same everywhere. */
export const REWARD_VARIANTS = ['tree', 'data-scale', 'single-small', 'decouple'] as const;
export type RewardVariant = (typeof REWARD_VARIANTS)[number];

export interface BuildRewardOptions {
  variant: RewardVariant;
  tokenizer: Tokenizer;
  /** BLIP preset or config. Defaults to 'bench'. */
  backbone?: BlipPresetName | BlipConfigInput;
  /** A safetensors file of pretrained BLIP weights (names 'visual_encoder.*', 'text_encoder.*', optionally under 'blip.'). */
  backboneWeights?: string;
  tree?: TreeSpecInput;
  /** The dimensions of the data (decouple keeps one model per dimension). */
  dimensions: string[];
  seed?: number;
}

function backbone(o: BuildRewardOptions, seed: number): BlipBackbone {
  const b = new BlipBackbone(o.backbone ?? 'bench', seed);
  if (o.backboneWeights) {
    const { tensors } = readSafetensors(o.backboneWeights);
    const prefixed = [...tensors.keys()].some((k) => k.startsWith('blip.'));
    // Pretraining heads (itm_head, vision_proj, text_proj, temp) may ride along: every backbone weight must be there.
    const report = b.loadStateDict(tensors, { prefix: prefixed ? 'blip.' : '', strict: false });
    if (report.missing.length || report.mismatched.length) {
      throw new TreeRewardError('CORRUPT_FILE', `Expected every BLIP backbone weight in ${o.backboneWeights} but ${report.missing.length} are missing (${report.missing.slice(0, 3).join(', ')}) and ${report.mismatched.length} have other shapes`);
    }
  }
  return b;
}

export function buildReward(o: BuildRewardOptions): RewardModel {
  const seed = o.seed ?? 0;
  switch (o.variant) {
    case 'tree':
      return new TreeReward({ backbone: backbone(o, seed), tree: resolveTree(o.tree ?? DEFAULT_TREE, o.dimensions), tokenizer: o.tokenizer, seed });
    case 'data-scale':
    case 'single-small':
      return new SingleHeadReward({ name: o.variant, backbone: backbone(o, seed), tokenizer: o.tokenizer, seed });
    case 'decouple':
      return new DecoupledReward(new Map(o.dimensions.map((d, i) => [d, new SingleHeadReward({ name: d, backbone: backbone(o, seed + i), tokenizer: o.tokenizer, seed: seed + i })])));
    default:
      throw new TreeRewardError('INVALID_ARGUMENT', `Expected one of ${REWARD_VARIANTS.join(', ')} for variant but received "${String(o.variant)}"`);
  }
}
