// refl-seam.ts: what the demo's ReFL stage asks of ReFL, one call per (reward variant, seed): tune
// the base generator with LoRA against that reward and leave a generator --model can name, with a
// JSONL log of its steps. refl-runner.ts answers it with src/refl's runRefl; tests may hand in others.
import type { RewardModel } from '../../reward/reward-model.js';
import type { RewardVariant } from './demo-config.js';

export interface ReflRequest {
  variant: RewardVariant;
  reward: RewardModel;
  /** What --model names for the base generator (a diffusion model directory). */
  baseGenerator: string;
  /** Training prompts (never benchmark prompts). */
  prompts: string[];
  /** The feedback store whose preferred images give L_pretrain (eq. 10). */
  pretrainStore: string;
  /** The run's folder for this variant and seed: checkpoints, log.jsonl and the tuned model go here (a rerun resumes). */
  outDir: string;
  seed: number;
  steps: number;
  loraRank: number;
  /** eq. 11: L = L_pretrain + lambda * L_reward. */
  lambda: number;
  signal: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ReflResult {
  /** The tuned generator as --model names it (its model directory). */
  generator: string;
  steps: number;
  /** The JSONL log: one line per step with at least { step, loss, reward }. */
  log: string;
}

export type ReflRunner = (request: ReflRequest) => Promise<ReflResult>;
