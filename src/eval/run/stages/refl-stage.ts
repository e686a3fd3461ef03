// refl-stage.ts: stage 3, ReFL with each trained reward (LoRA, the run's seeds) from the base
// generator. It runs through the ReflRunner of the providers (refl-seam.ts); while ReFL or the base
// generator does not exist, the stage waits and says which, and the evaluation uses stand-ins.
// A variant whose result.json is written is not tuned again. Outputs: { base, tuned: ReflRun[] }.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { DIMENSIONS } from '../../../api/interfaces.js';
import { loadRewardModel } from '../../../reward/checkpoint.js';
import { trainingPrompt } from '../../../world/benchmark.js';
import { deriveSeed } from '../../../world/random.js';
import type { DemoConfig, RewardVariant } from '../demo-config.js';
import { isMissing, type DemoProviders } from '../providers.js';
import type { Stage } from '../stages.js';
import { DATA_DIR } from './data-stage.js';
import type { RewardOutputs } from './reward-stage.js';

export interface ReflRun {
  variant: RewardVariant;
  seed: number;
  /** What --model names for the tuned generator. */
  generator: string;
  /** JSONL log, relative to RUN_DIR. */
  log: string;
  steps: number;
  seconds: number;
}

export interface ReflOutputs {
  base: string;
  baseSource: string;
  tuned: ReflRun[];
}

/** A finished ReFL run's result, in its reflDir. */
export const REFL_RESULT = 'result.json';

export function reflDir(variant: string, seed: number): string {
  return join('refl', variant, `seed-${seed}`);
}

/** ReFL's training prompts: 50 per dimension, never benchmark prompts. */
export function reflPrompts(seed: number, perDimension = 50): string[] {
  return DIMENSIONS.flatMap((d) => Array.from({ length: perDimension }, (_, i) => trainingPrompt(d, deriveSeed(seed, `refl:${d}:${i}`))));
}

export function reflStage(config: DemoConfig, seed: number, providers: DemoProviders): Stage {
  return {
    name: 'refl',
    title: 'ReFL fine-tuning',
    async run(ctx) {
      const runner = providers.refl;
      if (isMissing(runner)) return { status: 'waiting', reason: runner.missing };
      const base = providers.baseGenerator();
      if (isMissing(base)) return { status: 'waiting', reason: base.missing };
      const rewards = ctx.outputsOf<RewardOutputs>('rewards');
      if (!rewards) return { status: 'waiting', reason: 'the reward models are not trained (the rewards stage is not done)' };
      const prompts = reflPrompts(seed);
      const tuned: ReflRun[] = [];
      for (const r of rewards.runs) {
        const rel = reflDir(r.variant, r.seed);
        const dir = join(ctx.runDir, rel);
        const resultFile = join(dir, REFL_RESULT);
        if (existsSync(resultFile)) {
          tuned.push(JSON.parse(readFileSync(resultFile, 'utf8')) as ReflRun);
          ctx.log(`${r.variant} seed ${r.seed}: tuned in an earlier sitting`);
          continue;
        }
        mkdirSync(dir, { recursive: true });
        const reward = loadRewardModel(join(ctx.runDir, r.model));
        const bar = ctx.progress(`ReFL ${r.variant} seed ${r.seed}`, config.refl.steps);
        const t0 = Date.now();
        try {
          const result = await runner({
            variant: r.variant, reward, baseGenerator: base.spec, prompts, pretrainStore: join(ctx.runDir, DATA_DIR), outDir: dir,
            seed: seed + r.seed, steps: config.refl.steps, loraRank: config.refl.loraRank, lambda: config.refl.lambda,
            signal: ctx.signal, onProgress: (done, total) => bar.update(done, total),
          });
          if (ctx.signal.aborted) throw new Error(`Expected ReFL with ${r.variant} to finish but it was stopped; a rerun resumes it`);
          const run: ReflRun = { variant: r.variant, seed: r.seed, generator: result.generator, log: relative(ctx.runDir, result.log), steps: result.steps, seconds: (Date.now() - t0) / 1000 };
          writeFileSync(resultFile, JSON.stringify(run, null, 1));
          tuned.push(run);
          ctx.log(`${r.variant} seed ${r.seed}: ${run.steps} ReFL steps in ${run.seconds.toFixed(0)} s`);
        } finally {
          bar.stop();
          reward.dispose();
        }
      }
      const outputs: ReflOutputs = { base: base.spec, baseSource: base.source, tuned };
      return { status: 'done', summary: `${tuned.length} tuned generators (${config.variants.join(', ')}; LoRA rank ${config.refl.loraRank}, ${config.refl.steps} steps)`, outputs: outputs as unknown as Record<string, unknown> };
    },
  };
}
