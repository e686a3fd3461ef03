// demo-config.ts: the sizes of `treereward demo`: --quick (about 3 minutes here: what the tests
// run), the default (at most 15 minutes on two cores) and --full (the paper's whole Table 4 ablation:
// the four reward variants, three seeds, the 600 benchmark prompts; hours, resumable). Every random
// choice of a run derives from its seed.
import type { Precision } from '../../api/autograd.js';

/** The four reward variants of the paper's Table 4, named as everywhere in the project. */
export const REWARD_VARIANTS = ['single-small', 'data-scale', 'decouple', 'tree'] as const;
export type RewardVariant = (typeof REWARD_VARIANTS)[number];

export type DemoMode = 'quick' | 'default' | 'full';

export interface DemoConfig {
  mode: DemoMode;
  /** Feedback pairs built by every strategy, split evenly over the six dimensions. */
  pairs: number;
  /** Share of each dimension's pairs made from the shipped base generator's own samples (when it is shipped). */
  samplesShare: number;
  /** Simulated experts' disagreement rate (data building and win / tie / loss). */
  flipRate: number;
  /** Judge score difference below which experts call a tie. */
  tieBand: number;
  /** Reward variants trained, each then used for ReFL. */
  variants: RewardVariant[];
  /** Training runs per variant (seed + 0, seed + 1, ...): the spread over seeds. */
  trainingSeeds: number;
  rewardSteps: number;
  rewardBatch: number;
  rewardLr: number;
  /**
   * Reward training's precision: 'bf16-mixed' (the products in bf16 under autocast, 1.5x faster on the
   * BLIP here) for --full's twelve runs; quick and default stay float32.
   */
  rewardPrecision: Precision;
  /** Fraction of a pretrained backbone's lower layers frozen (ImageReward: 0.7); a randomly initialised one trains whole. */
  freezeFraction: number;
  /** Share of the training pairs `single-small` sees (the paper: 137k of 2.2M). */
  smallShare: number;
  refl: { steps: number; loraRank: number; lambda: number };
  /** Benchmark prompts per dimension in the evaluation (of 100). */
  evalPerDimension: number;
  /** Image seeds per prompt in the evaluation. */
  evalSeeds: number;
  /** Prompts per dimension shown in the before / after grids. */
  gridColumns: number;
  /** World renderer stand-ins for the base and tuned generators while the diffusion assets and ReFL do not exist. */
  standIn: { base: string; tuned: string };
}

const common = {
  flipRate: 0.1,
  tieBand: 0.02,
  rewardLr: 3e-3,
  rewardPrecision: 'float32' as Precision,
  freezeFraction: 0.7,
  smallShare: 137 / 2200,
  gridColumns: 4,
  standIn: { base: 'world:quality=0.5', tuned: 'world:quality=0.7' },
};

export const DEMO_CONFIGS: Record<DemoMode, DemoConfig> = {
  quick: {
    ...common, mode: 'quick', pairs: 360, samplesShare: 0.25, variants: ['data-scale', 'tree'], trainingSeeds: 1,
    rewardSteps: 60, rewardBatch: 16, refl: { steps: 20, loraRank: 4, lambda: 0.05 }, evalPerDimension: 20, evalSeeds: 1,
  },
  default: {
    ...common, mode: 'default', pairs: 2400, samplesShare: 0.4, variants: ['data-scale', 'tree'], trainingSeeds: 1,
    rewardSteps: 450, rewardBatch: 16, refl: { steps: 200, loraRank: 4, lambda: 0.05 }, evalPerDimension: 20, evalSeeds: 2,
  },
  full: {
    ...common, mode: 'full', pairs: 6000, samplesShare: 0.5, variants: [...REWARD_VARIANTS], trainingSeeds: 3,
    rewardSteps: 2000, rewardBatch: 16, rewardPrecision: 'bf16-mixed', refl: { steps: 1000, loraRank: 8, lambda: 0.05 }, evalPerDimension: 100, evalSeeds: 1,
  },
};
