// imagereward-reward.ts: ImageReward (Xu et al. 2023) as a RewardModel, so ReFL can tune with the
// released checkpoint as ImageReward's own refl.py does: images in [0, 1] -> bilinear resize to the
// BLIP size -> CLIP normalisation -> BLIP + head -> (r - mean) / std. Differentiable in the images.
import type { Device } from '../api/dtype.js';
import type { Tensor } from '../api/tensor.js';
import { ImageRewardScorer } from '../models/imagereward.js';
import { normalise } from '../reward/preprocess.js';
import type { RewardModel, RewardOutput } from '../reward/reward-model.js';
import { batchToTensors } from '../tokenizers/tensors.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { bilinearResize } from '../reward/bilinear-resize.js';

export class ImageRewardModel implements RewardModel {
  readonly name = 'imagereward';
  constructor(readonly scorer: ImageRewardScorer, readonly tokenizer: Tokenizer) {}

  get imageSize(): number {
    return this.scorer.blip.config.image_size;
  }

  score(prompts: string[], images: Tensor): RewardOutput {
    const x = normalise(bilinearResize(images, this.imageSize));
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { maxLength: this.scorer.blip.config.bert.seq ?? 35 }));
    return { reward: this.scorer.score(x, ids, mask) };
  }

  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.scorer.blip.parameters()) out.set(`blip.${n}`, p);
    for (const [n, p] of this.scorer.head.parameters()) out.set(`mlp.${n}`, p);
    return out;
  }

  to(device: Device): this {
    this.scorer.to(device);
    return this;
  }

  dispose(): void {
    this.scorer.dispose();
  }
}
