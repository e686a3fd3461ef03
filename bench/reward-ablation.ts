// reward-ablation.ts: the reward half of the paper's Table 4 on the synthetic world: `tree`,
// `data-scale`, `single-small` and `decouple` trained from the same pretrained world BLIP
// (assets/world-blip) with the same budget of pairs seen, evaluated by pairwise accuracy per
// dimension on the held-out test split against clean and noisy labels, with routing accuracy.
//   npx tsx bench/reward-ablation.ts [--pairs 3000] [--steps 120] [--batch 16] [--seed 0] [--json]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { FeedbackStore } from '../src/data/store/index.js';
import { buildWorldPairs } from '../src/data/strategies/build-world-pairs.js';
import {
  buildReward, calibrateSingle, calibrateTree, DecoupledReward, evaluationPairs, onlyDimension, pairwiseAccuracy, routingAccuracy,
  SingleHeadReward, StorePairSource, trainDecoupled, trainSingleHead, trainTreeReward, TreeReward, type PairSource, type RewardVariant,
} from '../src/reward/index.js';
import { memoryStats, resetPeakMemory } from '../src/index.js';
import { WordTokenizer } from '../src/tokenizers/word.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    pairs: { type: 'string', default: '3000' }, steps: { type: 'string', default: '120' }, batch: { type: 'string', default: '16' },
    seed: { type: 'string', default: '0' }, json: { type: 'boolean', default: false }, assets: { type: 'string', default: path.resolve(here, '..', 'assets', 'world-blip') },
  } });
  const steps = Number(values.steps), batch = Number(values.batch), seed = Number(values.seed);
  const blipJson = JSON.parse(readFileSync(path.join(values.assets!, 'blip.json'), 'utf8'));
  const tokenizer = WordTokenizer.fromWords(blipJson.tokenizer.vocab, { maxLength: blipJson.tokenizer.maxLength });
  const weights = path.join(values.assets!, blipJson.files[0]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablation-'));
  const log = (s: string) => !values.json && console.log(s);
  try {
    const store = FeedbackStore.open(dir);
    const t0 = performance.now();
    await store.insertPairs(await buildWorldPairs({ pairs: Number(values.pairs), seed: seed + 1 }));
    log(`built ${store.countPairs()} pairs in ${((performance.now() - t0) / 1000).toFixed(0)} s (10% simulated-expert disagreement)`);
    const dimensions = store.dimensions();
    const test = { clean: await evaluationPairs(store, { split: 'test', labels: 'clean' }), noisy: await evaluationPairs(store, { split: 'test', labels: 'noisy' }) };
    const calib = await evaluationPairs(store, { split: 'validation', labels: 'noisy', limit: 256 });
    const results: Record<string, unknown> = {};
    for (const variant of ['tree', 'data-scale', 'single-small', 'decouple'] as RewardVariant[]) {
      const model = buildReward({ variant, tokenizer, dimensions, backbone: blipJson.config, backboneWeights: weights, seed });
      const source = new StorePairSource(store, { seed, split: 'train' });
      // native memory: the weights, then the peak above them while training and while scoring the test pairs
      const weightBytes = memoryStats().liveBytes;
      resetPeakMemory();
      const t1 = performance.now();
      const common = { steps, batchSize: batch, lr: 3e-4, freezeFraction: 0.5 };
      if (model instanceof TreeReward) {
        await trainTreeReward(model, source, common);
        calibrateTree(model, calib);
      } else if (model instanceof SingleHeadReward) {
        // single-small: the same steps over a fixed 137/2200 share of the training pairs (the ImageReward setting)
        const src: PairSource = variant === 'single-small' ? new StorePairSource(store, { seed, split: 'train', mixture: undefined }) : source;
        await trainSingleHead(model, variant === 'single-small' ? smallShare(src, 137 / 2200) : src, common);
        calibrateSingle(model, calib);
      } else if (model instanceof DecoupledReward) {
        // the same pairs seen in all: each of the six models gets steps / 6
        await trainDecoupled(model, (d) => onlyDimension(source, d), { ...common, steps: Math.max(1, Math.round(steps / dimensions.length)) });
        for (const m of model.members.values()) calibrateSingle(m, calib);
      }
      const seconds = (performance.now() - t1) / 1000;
      const trainPeak = memoryStats().peakBytes - weightBytes;
      const before = memoryStats().liveBytes;
      resetPeakMemory();
      const clean = pairwiseAccuracy(model, test.clean), noisy = pairwiseAccuracy(model, test.noisy);
      const scorePeak = memoryStats().peakBytes - before;
      const routing = model instanceof TreeReward ? routingAccuracy(model, test.clean) : null;
      const params = [...model.parameters().values()].reduce((n, p) => n + p.numel, 0);
      const memoryMb = { weights: (params * 4) / 2 ** 20, trainingPeakAboveWeights: trainPeak / 2 ** 20, scoringPeak: scorePeak / 2 ** 20 };
      results[variant] = { clean, noisy, routing, seconds, params, memoryMb };
      log(`${variant}: clean mean ${(100 * clean.mean).toFixed(1)}% (${Object.entries(clean.perDimension).map(([d, v]) => `${d} ${(100 * v.accuracy).toFixed(1)}`).join(', ')}), noisy mean ${(100 * noisy.mean).toFixed(1)}%${routing === null ? '' : `, routing ${(100 * routing).toFixed(1)}%`}, ${params} parameters, ${seconds.toFixed(0)} s; native memory: weights ${memoryMb.weights.toFixed(1)} MB, training peak ${memoryMb.trainingPeakAboveWeights.toFixed(0)} MB above them, scoring peak ${memoryMb.scoringPeak.toFixed(0)} MB`);
      model.dispose();
    }
    store.close();
    if (values.json) console.log(JSON.stringify({ steps, batch, seed, pairs: Number(values.pairs), testPairs: test.clean.length, results }, null, 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Keeps a fixed share of the distinct pairs (by a hash of the two prompts and the dimension). */
function smallShare(source: PairSource, share: number): PairSource {
  const keep = (p: { dimension: string; winner: { prompt: string }; loser: { prompt: string } }) => {
    let h = 2166136261;
    for (const c of `${p.dimension}|${p.winner.prompt}|${p.loser.prompt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    return ((h >>> 0) % 10000) / 10000 < share;
  };
  return {
    async batch(index: number, size: number) {
      const out = [];
      for (let k = 0; out.length < size && k < 512; k++) for (const p of await source.batch(index * 512 + k, size)) if (keep(p) && out.length < size) out.push(p);
      return out;
    },
  };
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
