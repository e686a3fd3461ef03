// refl-runner.ts: the demo's ReFL stage on src/refl: runRefl with LoRA on the base generator, the
// reward model handed in (frozen by the run), L_pretrain on the run's feedback store, checkpoints
// every 10 steps and resume on a rerun. `overrides` change the ReFL config (tests use a tiny sampler).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { ReflConfigInput } from '../../refl/config.js';
import { runRefl } from '../../refl/run-refl.js';
import type { ReflRunner } from './refl-seam.js';

export function reflRunner(overrides: Partial<ReflConfigInput> = {}): ReflRunner {
  return async (req) => {
    const result = await runRefl({
      model: req.baseGenerator,
      output: req.outDir,
      steps: req.steps,
      seed: req.seed,
      objective: { lambda: req.lambda },
      train: { target: 'lora', lora: { rank: req.loraRank }, learningRate: 1e-4 },
      pretrain: { store: req.pretrainStore },
      checkpointEvery: 10,
      resume: existsSync(join(req.outDir, 'checkpoints')),
      saveModel: true,
      ...overrides,
    }, {
      reward: req.reward,
      prompts: req.prompts,
      signal: req.signal,
      onProgress: (p) => req.onProgress?.(p.step, p.totalSteps),
    });
    if (!result.modelDir) throw new Error(`Expected ReFL with ${req.variant} to save the tuned model but it saved none (saveModel)`);
    return { generator: result.modelDir, steps: result.steps, log: result.logFile };
  };
}
