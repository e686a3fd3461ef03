// reward-training.ts: one reward variant of the paper's Table 4 trained on the run's feedback store
// with the same budget as the others (steps x batch pairs seen), by the reward module's trainers:
//   tree          the tree (random sample ensemble, eq. 4-6) on all the pairs
//   data-scale    one head on all the pairs, dimensions not distinguished
//   single-small  one head on a small share of the training pairs (the ImageReward setting)
//   decouple      one model per dimension, each on its dimension's pairs for steps / 6 (so the six
//                 together see as many pairs as the tree)
// Each trains with checkpoints (a stopped run resumes), logs every step to JSONL, and is then
// calibrated per leaf on the validation split (ImageReward's normalisation).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FeedbackStore } from '../../data/store/feedback-store.js';
import { calibrateSingle, calibrateTree } from '../../reward/calibrate.js';
import { DecoupledReward } from '../../reward/decouple.js';
import { evaluationPairs } from '../../reward/eval-pairs.js';
import { ArrayPairSource } from '../../reward/array-pair-source.js';
import { StorePairSource, type TrainingPair } from '../../reward/pair-source.js';
import type { RewardModel } from '../../reward/reward-model.js';
import { SingleHeadReward, trainSingleHead } from '../../reward/single-head.js';
import { trainTreeReward } from '../../reward/train-tree.js';
import { TreeReward } from '../../reward/tree-reward.js';
import { DEFAULT_TREE, resolveTree } from '../../reward/tree-spec.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import { deriveSeed } from '../../world/random.js';
import type { DemoConfig, RewardVariant } from './demo-config.js';
import type { DemoProviders } from './providers.js';

export interface TrainVariantOptions {
  variant: RewardVariant;
  store: FeedbackStore;
  providers: DemoProviders;
  /** Used where the backbone brings no tokenizer of its own. */
  tokenizer: Tokenizer;
  config: DemoConfig;
  seed: number;
  /** The variant's folder: ckpt/ and train-log.jsonl go here. */
  dir: string;
  signal: AbortSignal;
  onStep?: (step: number, total: number) => void;
}

export interface LogLine {
  step: number;
  loss: number;
  /** The member of a decoupled model (its dimension). */
  member?: string;
  [part: string]: number | string | undefined;
}

export const TRAIN_LOG = 'train-log.jsonl';
const CHECKPOINT_EVERY = 20;

/** Keeps the log lines a resumed checkpoint has (steps up to its step): later ones are recomputed. */
function trimLog(logFile: string, ckptDir: string, member?: string): void {
  if (!existsSync(logFile)) return;
  const state = join(ckptDir, 'train-state.json');
  const step = existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as { step: number }).step : 0;
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      const x = JSON.parse(l) as LogLine;
      return x.member !== member || x.step <= step;
    } catch {
      return false;
    }
  });
  writeFileSync(logFile, kept.map((l) => l + '\n').join(''));
}

/** The training pairs `single-small` may see: a fixed share of the train split, chosen by the seed. */
async function smallShare(store: FeedbackStore, share: number, seed: number): Promise<TrainingPair[]> {
  const all = await evaluationPairs(store, { split: 'train', labels: 'noisy' });
  const picked = all.filter((p, i) => !p.tie && (deriveSeed(seed, `small:${i}`) / 2 ** 32) < share);
  if (picked.length < 8) throw new Error(`Expected at least 8 training pairs in single-small's ${(100 * share).toFixed(1)}% share but received ${picked.length} (build more pairs)`);
  return picked;
}

export async function trainVariant(o: TrainVariantOptions): Promise<{ model: RewardModel; backbone: string; pretrained: boolean }> {
  const { config, store, seed } = o;
  mkdirSync(o.dir, { recursive: true });
  const logFile = join(o.dir, TRAIN_LOG);
  const log = (line: LogLine) => appendFileSync(logFile, JSON.stringify(line) + '\n');
  const loop = (ckpt: string, member?: string) => {
    trimLog(logFile, ckpt, member);
    return { checkpointDir: ckpt, checkpointEvery: CHECKPOINT_EVERY, signal: o.signal, batchSize: config.rewardBatch, lr: config.rewardLr, precision: config.rewardPrecision };
  };
  const validation = await evaluationPairs(store, { split: 'validation', labels: 'noisy' });
  const calibration = validation.length >= 8 ? validation : await evaluationPairs(store, { split: 'train', labels: 'noisy' });
  const stopped = () => {
    if (o.signal.aborted) throw new Error(`Expected ${o.variant} to finish training but it was stopped; a rerun resumes from its checkpoint`);
  };
  const bb = o.providers.rewardBackbone(seed);
  const tokenizer = bb.tokenizer ?? o.tokenizer;
  const freezeFraction = bb.pretrained ? config.freezeFraction : 0;
  const steps = config.rewardSteps;

  if (o.variant === 'tree') {
    const model = new TreeReward({ backbone: bb.backbone, tree: resolveTree(DEFAULT_TREE), tokenizer, seed });
    await trainTreeReward(model, new StorePairSource(store, { seed }), {
      ...loop(join(o.dir, 'ckpt')), steps, freezeFraction,
      onStep: (s) => {
        log({ step: s.step, loss: s.loss, routing: s.routing, preference: s.preference });
        o.onStep?.(s.step, steps);
      },
    });
    stopped();
    calibrateTree(model, calibration);
    return { model, backbone: bb.source, pretrained: bb.pretrained };
  }

  if (o.variant === 'decouple') {
    bb.backbone.dispose();
    const dims = store.dimensions();
    const memberSteps = Math.ceil(steps / dims.length);
    const members = new Map<string, SingleHeadReward>();
    for (const [k, d] of dims.entries()) {
      const mb = o.providers.rewardBackbone(deriveSeed(seed, `decouple:${d}`) & 0xffff);
      const m = new SingleHeadReward({ name: d, backbone: mb.backbone, tokenizer: mb.tokenizer ?? o.tokenizer, seed });
      await trainSingleHead(m, new StorePairSource(store, { seed, mixture: { [d]: 1 } }), {
        ...loop(join(o.dir, 'ckpt', d), d), steps: memberSteps, freezeFraction,
        onStep: (s) => {
          log({ step: s.step, loss: s.loss, member: d });
          o.onStep?.(k * memberSteps + s.step, memberSteps * dims.length);
        },
      });
      stopped();
      calibrateSingle(m, calibration.filter((p) => p.dimension === d));
      members.set(d, m);
    }
    return { model: new DecoupledReward(members), backbone: bb.source, pretrained: bb.pretrained };
  }

  // data-scale and single-small: one head, all the data or a small share of it
  const model = new SingleHeadReward({ name: o.variant, backbone: bb.backbone, tokenizer, seed });
  const source = o.variant === 'data-scale' ? new StorePairSource(store, { seed }) : new ArrayPairSource(await smallShare(store, config.smallShare, seed), seed);
  await trainSingleHead(model, source, {
    ...loop(join(o.dir, 'ckpt')), steps, freezeFraction,
    onStep: (s) => {
      log({ step: s.step, loss: s.loss });
      o.onStep?.(s.step, steps);
    },
  });
  stopped();
  calibrateSingle(model, calibration);
  return { model, backbone: bb.source, pretrained: bb.pretrained };
}
