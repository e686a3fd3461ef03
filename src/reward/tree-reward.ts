// tree-reward.ts: the tree-structured reward model: one shared BLIP backbone (ViT + BERT with
// cross-attention) -> [CLS] feature -> TreeHeads (internal nodes and leaves) -> R (eq. 7-8).
import type { Device, Tensor } from '../api/index.js';
import { BlipBackbone } from '../models/blip.js';
import { normalise, resizeTo } from './preprocess.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { batchToTensors } from '../tokenizers/tensors.js';
import type { RewardModel, RewardOutput } from './reward-model.js';
import { TreeHeads, type TreeOutput } from './tree-heads.js';
import type { ResolvedTree } from './tree-spec.js';

export interface TreeRewardParts {
  backbone: BlipBackbone;
  tree: ResolvedTree;
  tokenizer: Tokenizer;
  /** Seed of the heads' initialisation. Defaults to 0. */
  seed?: number;
  /** Recompute backbone layers in backward (less memory). Defaults to false. */
  checkpointing?: boolean;
}

export class TreeReward implements RewardModel {
  readonly name = 'tree';
  readonly backbone: BlipBackbone;
  readonly heads: TreeHeads;
  readonly tokenizer: Tokenizer;
  checkpointing: boolean;

  constructor(parts: TreeRewardParts) {
    this.backbone = parts.backbone;
    this.tokenizer = parts.tokenizer;
    this.heads = new TreeHeads(parts.tree, parts.backbone.width, parts.seed ?? 0);
    this.checkpointing = parts.checkpointing ?? false;
  }

  get imageSize(): number {
    return this.backbone.config.image_size;
  }

  get tree(): ResolvedTree {
    return this.heads.tree;
  }

  /** The shared feature: images (B, 3, H, W) in [0, 1] with their prompts -> (B, D). */
  features(prompts: string[], images: Tensor): Tensor {
    const x = normalise(resizeTo(images, this.imageSize));
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { maxLength: this.backbone.config.bert.seq ?? 35 }));
    return this.backbone.forward(x, ids, mask, { checkpointing: this.checkpointing });
  }

  /** The whole tree on a batch. */
  evaluate(prompts: string[], images: Tensor): TreeOutput {
    return this.heads.forward(this.features(prompts, images));
  }

  score(prompts: string[], images: Tensor): RewardOutput {
    const out = this.evaluate(prompts, images);
    return {
      reward: out.reward,
      leafScores: out.normalisedScores,
      branchWeights: out.branchWeights,
      leaves: this.tree.leaves,
      branches: this.tree.branches,
    };
  }

  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.backbone.parameters()) out.set(`blip.${n}`, p);
    for (const [n, p] of this.heads.parameters()) out.set(n, p);
    return out;
  }

  to(device: Device): this {
    this.backbone.to(device);
    this.heads.to(device);
    return this;
  }

  dispose(): void {
    this.heads.dispose();
    this.backbone.dispose();
  }
}
