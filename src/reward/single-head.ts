// single-head.ts: the one-head reward of the paper's baselines: BLIP backbone -> one MLP -> r,
// trained with Bradley-Terry on every pair whatever its dimension. `data-scale` trains it on all
// the data, `single-small` on a small share (the ImageReward setting); `decouple` keeps one per
// dimension (decouple.ts). Head names as ImageReward's: mlp.layers.*.
import { NativeModel, type Device, type Tensor } from '../api/index.js';
import { BlipBackbone } from '../models/blip.js';
import { bradleyTerryLoss, tieLoss } from './losses.js';
import type { PairSource, TrainingPair } from './pair-source.js';
import { imagesToTensor, normalise, resizeTo } from './preprocess.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { batchToTensors } from '../tokenizers/tensors.js';
import type { RewardModel, RewardOutput } from './reward-model.js';
import { freezeBlip } from './freeze.js';
import { runRewardLoop, type LoopOptions } from './train-loop.js';

export interface SingleHeadParts {
  name: string;
  backbone: BlipBackbone;
  tokenizer: Tokenizer;
  /** Hidden widths of the head. Defaults to [128, 64, 16] (the tree's leaf size, for a fair comparison). */
  hidden?: number[];
  act?: 'gelu' | 'none';
  seed?: number;
}

export class SingleHeadReward implements RewardModel {
  readonly name: string;
  readonly backbone: BlipBackbone;
  readonly head: NativeModel;
  readonly tokenizer: Tokenizer;
  /** Score normalisation (r - mean) / std, as ImageReward. */
  normalisation = { mean: 0, std: 1 };
  readonly actName: 'gelu' | 'none';

  constructor(parts: SingleHeadParts) {
    this.name = parts.name;
    this.backbone = parts.backbone;
    this.tokenizer = parts.tokenizer;
    this.actName = parts.act ?? 'gelu';
    this.head = new NativeModel('mlp', { dims: [parts.backbone.width, ...(parts.hidden ?? [128, 64, 16]), 1], act: parts.act ?? 'gelu' }, (parts.seed ?? 0) + 7);
  }

  get imageSize(): number {
    return this.backbone.config.image_size;
  }

  /** Raw r (B). */
  raw(prompts: string[], images: Tensor): Tensor {
    const x = normalise(resizeTo(images, this.imageSize));
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { maxLength: this.backbone.config.bert.seq ?? 35 }));
    return this.head.call('forward', [this.backbone.forward(x, ids, mask)])[0].reshape(-1);
  }

  score(prompts: string[], images: Tensor): RewardOutput {
    const r = this.raw(prompts, images);
    const { mean, std } = this.normalisation;
    return { reward: mean === 0 && std === 1 ? r : r.sub(mean).div(std) };
  }

  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.backbone.parameters()) out.set(`blip.${n}`, p);
    for (const [n, p] of this.head.parameters()) out.set(`mlp.${n}`, p);
    return out;
  }

  to(device: Device): this {
    this.backbone.to(device);
    this.head.to(device);
    return this;
  }

  dispose(): void {
    this.head.dispose();
    this.backbone.dispose();
  }
}

/** Bradley-Terry on every pair (ties by option), dimensions not distinguished. */
export function singleHeadLoss(model: SingleHeadReward, batch: TrainingPair[], ties: 'skip' | 'loss'): Tensor {
  const pairs = ties === 'skip' ? batch.filter((p) => !p.tie) : batch;
  const rw = model.raw(pairs.map((p) => p.winner.prompt), imagesToTensor(pairs.map((p) => p.winner.image)));
  const rl = model.raw(pairs.map((p) => p.loser.prompt), imagesToTensor(pairs.map((p) => p.loser.image)));
  const tieMask = pairs.map((p) => p.tie);
  if (!tieMask.some(Boolean)) return bradleyTerryLoss(rw, rl);
  // mixed batch: order is kept, so split by runs
  let loss: Tensor | null = null;
  for (let a = 0; a < pairs.length; ) {
    let b = a;
    while (b < pairs.length && tieMask[b] === tieMask[a]) b++;
    const part = (tieMask[a] ? tieLoss : bradleyTerryLoss)(rw.slice(0, a, b), rl.slice(0, a, b)).mul((b - a) / pairs.length);
    loss = loss ? loss.add(part) : part;
    a = b;
  }
  return loss!;
}

export interface SingleHeadTrainOptions extends Omit<LoopOptions, 'batchSize'> {
  batchSize?: number;
  lr?: number;
  backboneLr?: number;
  freezeFraction?: number;
  ties?: 'skip' | 'loss';
}

export async function trainSingleHead(model: SingleHeadReward, source: PairSource, options: SingleHeadTrainOptions) {
  const lr = options.lr ?? 1e-4;
  freezeBlip(model.backbone, options.freezeFraction ?? 0.7);
  const backboneParams = [...model.backbone.parameters().values()].filter((p) => p.requiresGrad);
  const ties = options.ties ?? 'skip';
  return runRewardLoop(
    model,
    [{ params: [...model.head.parameters().values()], lr }, { params: backboneParams, lr: options.backboneLr ?? lr / 10 }],
    source,
    (batch) => {
      const loss = singleHeadLoss(model, batch, ties);
      return { loss, parts: { preference: loss } };
    },
    { ...options, batchSize: options.batchSize ?? 16 },
  );
}
