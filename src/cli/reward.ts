// reward.ts: `treereward reward train | eval | score`: training one of the four reward variants on a
// feedback store, the pairwise-accuracy table, and one image's aggregate, branch weights and leaves.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import sharp from 'sharp';

import { FeedbackStore } from '../data/store/index.js';
import { noGrad, onDevice, PRECISIONS, tidy, type Precision } from '../api/index.js';
import { checkDevice } from '../api/validate.js';
import { calibrateSingle, calibrateTree } from '../reward/calibrate.js';
import { loadRewardModel, saveRewardModel } from '../reward/checkpoint.js';
import { buildReward, REWARD_VARIANTS, type RewardVariant } from '../reward/build-reward.js';
import { DecoupledReward, onlyDimension, trainDecoupled } from '../reward/decouple.js';
import { evaluationPairs } from '../reward/eval-pairs.js';
import { pairwiseAccuracy, routingAccuracy } from '../reward/evaluate.js';
import { StorePairSource } from '../reward/pair-source.js';
import { imagesToTensor } from '../reward/preprocess.js';
import { SingleHeadReward, trainSingleHead } from '../reward/single-head.js';
import { trainTreeReward } from '../reward/train-tree.js';
import { TreeReward } from '../reward/tree-reward.js';
import { WordTokenizer, wordsOf } from '../tokenizers/word.js';

const int = (v: string) => Number.parseInt(v, 10);
const num = (v: string) => Number(v);

interface TrainOpts {
  store: string; out: string; variant: string; backbone: string; backboneWeights?: string; steps: number; batch: number;
  lr: number; freeze: number; share: number; seed: number; precision: string; device: string; json?: boolean;
}

async function train(o: TrainOpts): Promise<void> {
  if (!(REWARD_VARIANTS as readonly string[]).includes(o.variant)) throw new Error(`Expected one of ${REWARD_VARIANTS.join(', ')} for --variant but received ${o.variant}`);
  if (!(PRECISIONS as readonly string[]).includes(o.precision)) throw new Error(`Expected one of ${PRECISIONS.join(', ')} for --precision but received ${o.precision}`);
  const device = checkDevice(o.device, '--device');
  const store = FeedbackStore.open(o.store);
  try {
    const dimensions = store.dimensions();
    const prompts = store.db.prepare('SELECT text FROM prompts').pluck().all() as string[];
    const tokenizer = WordTokenizer.fromWords(wordsOf(prompts));
    const model = buildReward({ variant: o.variant as RewardVariant, tokenizer, dimensions, backbone: o.backbone as 'tiny' | 'bench', backboneWeights: o.backboneWeights, seed: o.seed });
    const bar = o.json ? null : new cliProgress.SingleBar({ format: `${o.variant} [{bar}] {value}/{total} steps | loss {loss}` }, cliProgress.Presets.shades_classic);
    bar?.start(o.steps, 0, { loss: '-' });
    const onStep = (s: { step: number; loss: number }) => bar?.update(s.step, { loss: s.loss.toFixed(4) });
    const t0 = performance.now();
    const common = { steps: o.steps, batchSize: o.batch, lr: o.lr, freezeFraction: o.freeze, precision: o.precision as Precision, device, checkpointDir: `${o.out}/train-state`, checkpointEvery: 50, onStep };
    // single-small sees a small share of the pairs (the ImageReward setting): a sampler over a fixed subset.
    const source = new StorePairSource(store, { seed: o.seed, split: 'train' });
    if (model instanceof TreeReward) await trainTreeReward(model, source, common);
    else if (model instanceof SingleHeadReward) await trainSingleHead(model, o.variant === 'single-small' ? subsetSource(source, o.share) : source, common);
    else if (model instanceof DecoupledReward) await trainDecoupled(model, (d) => onlyDimension(source, d), common);
    bar?.stop();
    const seconds = (performance.now() - t0) / 1000;
    const calib = await evaluationPairs(store, { split: 'validation', labels: 'noisy', limit: 256 });
    onDevice(device, () => {  // the model is where it trained
      if (model instanceof TreeReward) calibrateTree(model, calib);
      else if (model instanceof SingleHeadReward) calibrateSingle(model, calib);
      else if (model instanceof DecoupledReward) for (const m of model.members.values()) calibrateSingle(m, calib);
    });
    saveRewardModel(o.out, model, { variant: o.variant, steps: o.steps, batch: o.batch, seed: o.seed, precision: o.precision, seconds, pairsPerSecond: (o.steps * o.batch) / seconds });
    const result = { out: o.out, variant: o.variant, precision: o.precision, steps: o.steps, seconds, pairsPerSecond: (o.steps * o.batch) / seconds };
    console.log(o.json ? JSON.stringify(result) : `saved ${o.variant} reward to ${o.out} (${o.steps} steps in ${seconds.toFixed(1)} s, ${result.pairsPerSecond.toFixed(1)} pairs/s)`);
  } finally {
    store.close();
  }
}

/** Keeps only a `share` of the stream's distinct pairs (by a hash of the prompt pair): single-small. */
function subsetSource(source: StorePairSource, share: number) {
  const keep = (p: { winner: { prompt: string }; loser: { prompt: string } }) => {
    let h = 2166136261;
    for (const c of p.winner.prompt + '|' + p.loser.prompt) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    return ((h >>> 0) % 10000) / 10000 < share;
  };
  return {
    async batch(index: number, size: number) {
      const out = [];
      for (let k = 0; out.length < size && k < 256; k++) for (const p of await source.batch(index * 256 + k, size)) if (keep(p) && out.length < size) out.push(p);
      return out;
    },
  };
}

async function evaluate(o: { store: string; model: string[]; split: string; labels: string; limit?: number; json?: boolean }): Promise<void> {
  const store = FeedbackStore.open(o.store);
  try {
    const pairs = await evaluationPairs(store, { split: o.split as 'test', labels: o.labels as 'clean' | 'noisy', limit: o.limit });
    const rows = o.model.map((dir) => {
      const m = loadRewardModel(dir);
      const acc = pairwiseAccuracy(m, pairs);
      const routing = m instanceof TreeReward ? routingAccuracy(m, pairs) : null;
      return { model: dir, name: m.name, ...acc, routing };
    });
    if (o.json) {
      console.log(JSON.stringify({ split: o.split, labels: o.labels, pairs: pairs.length, models: rows }));
      return;
    }
    const dims = [...new Set(rows.flatMap((r) => Object.keys(r.perDimension)))].sort();
    console.log(`pairwise accuracy on the ${o.split} split, ${o.labels} labels (ties skipped, predicted ties wrong)`);
    console.log(['model', ...dims, 'mean', 'routing'].join(' | '));
    for (const r of rows) console.log([r.name, ...dims.map((d) => (r.perDimension[d] ? (100 * r.perDimension[d].accuracy).toFixed(1) : '-')), (100 * r.mean).toFixed(1), r.routing === null ? '-' : (100 * r.routing).toFixed(1)].join(' | '));
  } finally {
    store.close();
  }
}

async function score(o: { model: string; prompt: string; json?: boolean }, image: string): Promise<void> {
  const m = loadRewardModel(o.model);
  const { data, info } = await sharp(image).removeAlpha().resize(m.imageSize, m.imageSize, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const out = noGrad(() =>
    tidy(() => {
      const s = m.score([o.prompt], imagesToTensor([{ width: info.width, height: info.height, data: new Uint8Array(data) }]));
      return {
        reward: s.reward.item(),
        branches: s.branches && s.branchWeights ? Object.fromEntries(s.branches.map((b, i) => [b, s.branchWeights!.toArray()[i]])) : undefined,
        leaves: s.leaves && s.leafScores ? Object.fromEntries(s.leaves.map((l, i) => [l, s.leafScores!.toArray()[i]])) : undefined,
      };
    }),
  );
  if (o.json) console.log(JSON.stringify({ model: o.model, prompt: o.prompt, image, ...out }));
  else {
    console.log(`R = ${out.reward.toFixed(4)}`);
    if (out.branches) console.log(`branch weights: ${Object.entries(out.branches).map(([b, w]) => `${b} ${w.toFixed(3)}`).join(', ')}`);
    if (out.leaves) console.log(`leaf scores: ${Object.entries(out.leaves).map(([l, s]) => `${l} ${s.toFixed(3)}`).join(', ')}`);
  }
}

export function register(program: Command): void {
  const reward = program.command('reward').description('train, evaluate and apply reward models');
  reward
    .command('train')
    .description('train a reward variant (tree, data-scale, single-small, decouple) on a feedback store')
    .requiredOption('--store <dir>', 'feedback store')
    .requiredOption('--out <dir>', 'output directory (a rerun resumes from its train-state)')
    .option('--variant <name>', REWARD_VARIANTS.join(' | '), 'tree')
    .option('--backbone <preset>', 'BLIP preset: tiny | bench', 'bench')
    .option('--backbone-weights <file>', 'pretrained BLIP weights (safetensors)')
    .option('--steps <n>', 'optimizer steps', int, 500)
    .option('--batch <n>', 'pairs per step', int, 16)
    .option('--lr <x>', 'learning rate of the heads', num, 1e-4)
    .option('--freeze <x>', 'fraction of backbone layers frozen', num, 0.7)
    .option('--share <x>', 'share of the data single-small trains on', num, 137 / 2200)
    .option('--seed <n>', 'seed', int, 0)
    .option('--precision <p>', "float32 | bf16-mixed (the products in bf16 under autocast, weights float32)", 'float32')
    .option('--device <d>', 'cpu | cuda (train on the GPU)', 'cpu')
    .option('--json', 'print one JSON document')
    .action((opts: TrainOpts) => train(opts));
  reward
    .command('eval')
    .description('pairwise accuracy per dimension (and routing accuracy for trees) on a split')
    .requiredOption('--store <dir>', 'feedback store')
    .requiredOption('--model <dirs...>', 'reward model directories')
    .option('--split <name>', 'train | validation | test', 'test')
    .option('--labels <kind>', 'clean | noisy', 'clean')
    .option('--limit <n>', 'at most this many pairs', int)
    .option('--json', 'print one JSON document')
    .action((opts) => evaluate(opts));
  reward
    .command('score <image>')
    .description('the aggregate reward, branch weights and leaf scores of one image')
    .requiredOption('--model <dir>', 'reward model directory')
    .requiredOption('--prompt <text>', 'the prompt')
    .option('--json', 'print one JSON document')
    .action((image: string, opts) => score(opts, image));
}
