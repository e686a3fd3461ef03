// reward-stage.ts: stage 2, the reward models: each variant of the run (quick and default: tree and
// data-scale; full: all four) for each training seed, then its pairwise accuracy on the held-out
// test split by ImageReward's protocol, against the clean (judge) and the noisy (expert) labels, and
// the tree's routing accuracy. A variant whose model/ is saved is not trained again.
// Outputs: { backbone, pretrained, runs: RewardRun[] }.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { FeedbackStore } from '../../../data/store/feedback-store.js';
import { saveRewardModel } from '../../../reward/checkpoint.js';
import { evaluationPairs } from '../../../reward/eval-pairs.js';
import { pairwiseAccuracy, routingAccuracy, type AccuracyReport } from '../../../reward/evaluate.js';
import { TreeReward } from '../../../reward/tree-reward.js';
import { WordTokenizer, wordsOf } from '../../../tokenizers/word.js';
import { loadBenchmark } from '../../../world/benchmark.js';
import type { DemoConfig, RewardVariant } from '../demo-config.js';
import type { DemoProviders } from '../providers.js';
import { trainVariant, TRAIN_LOG } from '../reward-training.js';
import type { Stage } from '../stages.js';
import { DATA_DIR } from './data-stage.js';

export interface RewardRun {
  variant: RewardVariant;
  seed: number;
  /** Relative to RUN_DIR. */
  model: string;
  log: string;
  accuracy: { clean: AccuracyReport; noisy: AccuracyReport; routing?: number };
  parameters: number;
  seconds: number;
}

export interface RewardOutputs {
  backbone: string;
  pretrained: boolean;
  steps: number;
  batchSize: number;
  runs: RewardRun[];
}

/** A finished reward run's summary (held-out accuracy), in its rewardDir. */
export const REWARD_SUMMARY = 'accuracy.json';

export function rewardDir(variant: string, seed: number): string {
  return join('rewards', variant, `seed-${seed}`);
}

/** The word tokenizer of a run: every word of its stored prompts and of the benchmark. */
function runTokenizer(store: FeedbackStore): WordTokenizer {
  const prompts = store.db.prepare('SELECT text FROM prompts ORDER BY text').pluck().all() as string[];
  const bench = Object.values(loadBenchmark().prompts).flat();
  return WordTokenizer.fromWords(wordsOf([...prompts, ...bench]));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function rewardStage(config: DemoConfig, seed: number, providers: DemoProviders): Stage {
  return {
    name: 'rewards',
    title: 'reward models',
    async run(ctx) {
      const store = FeedbackStore.open(join(ctx.runDir, DATA_DIR));
      try {
        const tokenizer = runTokenizer(store);
        const clean = await evaluationPairs(store, { split: 'test', labels: 'clean' });
        const noisy = await evaluationPairs(store, { split: 'test', labels: 'noisy' });
        const runs: RewardRun[] = [];
        let backbone = '', pretrained = false;
        for (let r = 0; r < config.trainingSeeds; r++) {
          for (const variant of config.variants) {
            const rel = rewardDir(variant, r);
            const dir = join(ctx.runDir, rel);
            const summaryFile = join(dir, REWARD_SUMMARY);
            if (existsSync(join(dir, 'model', 'reward.json')) && existsSync(summaryFile)) {
              const prior = JSON.parse(readFileSync(summaryFile, 'utf8')) as RewardRun & { backbone: string; pretrained: boolean };
              runs.push(prior);
              backbone = prior.backbone;
              pretrained = prior.pretrained;
              ctx.log(`${variant} seed ${r}: trained in an earlier sitting (clean accuracy ${pct(prior.accuracy.clean.mean)})`);
              continue;
            }
            const t0 = Date.now();
            const bar = ctx.progress(`${variant} seed ${r}`, config.rewardSteps);
            let trained;
            try {
              trained = await trainVariant({
                variant, store, providers, tokenizer, config, seed: seed + r, dir, signal: ctx.signal,
                onStep: (step, total) => bar.update(step, total),
              });
            } finally {
              bar.stop();
            }
            const { model } = trained;
            backbone = trained.backbone;
            pretrained = trained.pretrained;
            try {
              const accuracy: RewardRun['accuracy'] = { clean: pairwiseAccuracy(model, clean), noisy: pairwiseAccuracy(model, noisy) };
              if (model instanceof TreeReward) accuracy.routing = routingAccuracy(model, clean);
              const parameters = [...model.parameters().values()].reduce((n, t) => n + t.numel, 0);
              const run: RewardRun = { variant, seed: r, model: join(rel, 'model'), log: join(rel, TRAIN_LOG), accuracy, parameters, seconds: (Date.now() - t0) / 1000 };
              saveRewardModel(join(dir, 'model'), model, { variant, seed: seed + r, steps: config.rewardSteps, batchSize: config.rewardBatch, backbone });
              writeFileSync(summaryFile, JSON.stringify({ ...run, backbone, pretrained }, null, 1));
              runs.push(run);
              ctx.log(`${variant} seed ${r}: held-out pairwise accuracy ${pct(accuracy.clean.mean)} (clean labels), ${pct(accuracy.noisy.mean)} (expert labels)${accuracy.routing !== undefined ? `, routing ${pct(accuracy.routing)}` : ''}, ${run.seconds.toFixed(0)} s`);
            } finally {
              model.dispose();
            }
          }
        }
        const outputs: RewardOutputs = { backbone, pretrained, steps: config.rewardSteps, batchSize: config.rewardBatch, runs };
        const best = config.variants.map((v) => {
          const of = runs.filter((x) => x.variant === v);
          return `${v} ${pct(of.reduce((s, x) => s + x.accuracy.clean.mean, 0) / of.length)}`;
        });
        return { status: 'done', summary: `${runs.length} reward models; held-out accuracy (clean labels) ${best.join(', ')}`, outputs: outputs as unknown as Record<string, unknown> };
      } finally {
        store.close();
      }
    },
  };
}
