// data-stage.ts: stage 1, feedback pairs built in the synthetic world by every strategy (content
// re-captioning, style substitution, aesthetic pairs decided by simulated experts) into the run's
// feedback store, and, once the base generator is shipped, a share (config.samplesShare) of pairs of
// its own samples decided by the experts: the images ReFL will show the reward models. Each chunk is
// stored as it is made, keyed by slot, so a stopped build resumes.
// Outputs: { store: 'data', pairs, perDimension, bySplit, samples }.
import { join } from 'node:path';

import { DIMENSIONS } from '../../../api/interfaces.js';
import { FeedbackStore } from '../../../data/store/feedback-store.js';
import { worldPairChunks } from '../../../data/strategies/build-world-pairs.js';
import { openGenerator, parseGeneratorSpec } from '../../generator-spec.js';
import type { DemoConfig } from '../demo-config.js';
import { isMissing, type DemoProviders } from '../providers.js';
import type { Stage } from '../stages.js';

export const DATA_DIR = 'data';

export function dataStage(config: DemoConfig, seed: number, providers?: DemoProviders): Stage {
  return {
    name: 'data',
    title: 'feedback pairs',
    async run(ctx) {
      const base = providers?.baseGenerator();
      const shipped = base && !isMissing(base) && config.samplesShare > 0 ? base : null;
      const sampler = shipped ? await openGenerator(parseGeneratorSpec(shipped.spec)) : null;
      if (shipped) ctx.log(`${Math.round(100 * config.samplesShare)}% of each dimension's pairs from ${shipped.source}'s own samples`);
      const store = FeedbackStore.open(join(ctx.runDir, DATA_DIR));
      const bar = ctx.progress('pairs', config.pairs);
      let inserted = 0;
      try {
        for await (const chunk of worldPairChunks({
          pairs: config.pairs, seed, expert: { flipRate: config.flipRate, tieBand: config.tieBand },
          ...(sampler ? { samples: { generator: sampler.generator, share: config.samplesShare, generate: sampler.options } } : {}),
          skip: (key) => store.pairIdByKey(key) !== undefined,
          onProgress: (done) => bar.update(done),
          signal: ctx.signal,
        })) {
          inserted += (await store.insertPairs(chunk)).inserted;
        }
        bar.stop();
        const perDimension = Object.fromEntries(DIMENSIONS.map((d) => [d, store.countPairs({ dimension: d })]));
        const bySplit = Object.fromEntries((['train', 'validation', 'test'] as const).map((s) => [s, store.countPairs({ split: s })]));
        const total = store.countPairs();
        return {
          status: 'done',
          summary: `${total} pairs (${DIMENSIONS.map((d) => `${d} ${perDimension[d]}`).join(', ')}; train ${bySplit.train}, test ${bySplit.test})${inserted < total ? `, ${total - inserted} from an earlier sitting` : ''}`,
          outputs: {
            store: DATA_DIR, pairs: total, perDimension, bySplit, flipRate: config.flipRate,
            strategies: `content re-captioning, style substitution, aesthetic pairs by simulated experts${sampler ? `; ${Math.round(100 * config.samplesShare)}% base-generator samples by simulated experts` : ''}`,
            samples: sampler ? { generator: sampler.spec.spec, share: config.samplesShare, pairs: store.countPairs({ strategy: 'model-samples' }) } : null,
          },
        };
      } finally {
        bar.stop();
        store.close();
        sampler?.dispose();
      }
    },
  };
}
