// train-tree.ts: training the tree reward by random sample ensemble (paper eq. 4-6). Each step
// samples pairs (a mixture over dimensions), routes each sample root -> branch -> leaf, and minimises
//   L = sum over samples of  CE(G(x), branch(x))            (eq. 4, both images of a pair)
//                          + -log sigmoid(r_leaf(x_w) - r_leaf(x_l))   (eq. 5, its own leaf only)
// so only the path's parameters (and the backbone) get gradient from a sample.
import { type Device, type Precision, type Tensor } from '../api/index.js';
import { TreeRewardError } from '../native/errors.js';
import { bradleyTerryLoss, routingLoss, tieLoss } from './losses.js';
import type { PairSource, TrainingPair } from './pair-source.js';
import { runRewardLoop } from './train-loop.js';
import { freezeBlip } from './freeze.js';
import { imagesToTensor } from './preprocess.js';
import type { TreeReward } from './tree-reward.js';

export interface TreeTrainOptions {
  steps: number;
  /** Pairs per step. Defaults to 16. */
  batchSize?: number;
  /** Learning rate of the heads. Defaults to 1e-4. */
  lr?: number;
  /** Learning rate of the (unfrozen part of the) backbone. Defaults to lr / 10. */
  backboneLr?: number;
  /** Fraction of the backbone's lower layers kept frozen (ImageReward freezes 0.7). Defaults to 0.7. */
  freezeFraction?: number;
  /** Linear warm-up steps before the cosine decay. Defaults to steps / 20. */
  warmupSteps?: number;
  /** Micro-batches per optimizer step. Defaults to 1. */
  accumulation?: number;
  /** 'skip' ties (ImageReward's protocol) or train them with the tie loss. Defaults to 'skip'. */
  ties?: 'skip' | 'loss';
  /** Weight of the routing loss (eq. 4) against the Bradley-Terry loss. Defaults to 1. */
  routingWeight?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  /** 'bf16-mixed' runs each step's forward and backward under autocast('bfloat16'); defaults to 'float32'. */
  precision?: Precision;
  /** "cuda" trains on the GPU (the model moves there and stays). Defaults to "cpu". */
  device?: Device;
  /** Called after every optimizer step. */
  onStep?: (info: { step: number; loss: number; routing: number; preference: number }) => void;
  signal?: AbortSignal;
  /** Checkpoint here every `checkpointEvery` steps (and at the end); a rerun resumes from it. */
  checkpointDir?: string;
  checkpointEvery?: number;
}

export interface TreeTrainResult {
  steps: number;
  losses: number[];
  /** Where this call started: 0, or the step a checkpoint resumed from. */
  startStep: number;
}

/** Freezes the lower `fraction` of each encoder's layers and the embeddings (names as BLIP's). */
export function freezeBackbone(model: TreeReward, fraction: number): { frozen: number; trainable: number } {
  return freezeBlip(model.backbone, fraction);
}

/** Sorts a batch so each leaf's samples are contiguous (the heads then run on slices). */
function byLeaf(model: TreeReward, pairs: TrainingPair[]): TrainingPair[] {
  const index = model.tree.leafIndex;
  for (const p of pairs) {
    if (!index.has(p.dimension)) {
      throw new TreeRewardError('INVALID_ARGUMENT', `Expected pairs of the tree's dimensions (${model.tree.leaves.join(', ')}) but received one of "${p.dimension}"`);
    }
  }
  return [...pairs].sort((a, b) => index.get(a.dimension)! - index.get(b.dimension)!);
}

/** One step's loss on a batch (eq. 4-6); returns the pieces for logging. */
export function treeLoss(model: TreeReward, batch: TrainingPair[], options: { ties: 'skip' | 'loss'; routingWeight: number }): { loss: Tensor; routing: Tensor; preference: Tensor } {
  const pairs = byLeaf(model, options.ties === 'skip' ? batch.filter((p) => !p.tie) : batch);
  if (pairs.length === 0) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected at least one untied pair in the batch');
  const fw = model.features(pairs.map((p) => p.winner.prompt), imagesToTensor(pairs.map((p) => p.winner.image)));
  const fl = model.features(pairs.map((p) => p.loser.prompt), imagesToTensor(pairs.map((p) => p.loser.image)));
  // eq. 4: each sample's internal-node logits against its branch
  const branch = pairs.map((p) => model.tree.branchOfLeaf[model.tree.leafIndex.get(p.dimension)!]);
  const routing = routingLoss(model.heads.branchLogits(fw), branch).add(routingLoss(model.heads.branchLogits(fl), branch)).mul(0.5);
  // eq. 5: Bradley-Terry on each sample's own leaf, weighted by its share of the batch
  let preference: Tensor | null = null;
  for (let a = 0; a < pairs.length; ) {
    let b = a;
    while (b < pairs.length && pairs[b].dimension === pairs[a].dimension && pairs[b].tie === pairs[a].tie) b++;
    const leaf = pairs[a].dimension;
    const rw = model.heads.leafScore(fw.slice(0, a, b), leaf), rl = model.heads.leafScore(fl.slice(0, a, b), leaf);
    const part = (pairs[a].tie ? tieLoss(rw, rl) : bradleyTerryLoss(rw, rl)).mul((b - a) / pairs.length);
    preference = preference ? preference.add(part) : part;
    a = b;
  }
  const loss = routing.mul(options.routingWeight).add(preference!); // eq. 6
  return { loss, routing, preference: preference! };
}

export async function trainTreeReward(model: TreeReward, source: PairSource, options: TreeTrainOptions): Promise<TreeTrainResult> {
  const lr = options.lr ?? 1e-4;
  freezeBackbone(model, options.freezeFraction ?? 0.7);
  const backboneParams = [...model.backbone.parameters().values()].filter((p) => p.requiresGrad);
  const headParams = [...model.heads.parameters().values()];
  const ties = options.ties ?? 'skip', routingWeight = options.routingWeight ?? 1;
  const result = await runRewardLoop(
    model,
    [{ params: headParams, lr }, { params: backboneParams, lr: options.backboneLr ?? lr / 10 }],
    source,
    (batch) => {
      const { loss, routing, preference } = treeLoss(model, batch, { ties, routingWeight });
      return { loss, parts: { routing, preference } };
    },
    {
      ...options,
      batchSize: options.batchSize ?? 16,
      onStep: options.onStep && ((s) => options.onStep!({ step: s.step, loss: s.loss, routing: s.parts.routing, preference: s.parts.preference })),
    },
  );
  return { steps: result.steps, losses: result.losses, startStep: result.startStep };
}
