// config.ts: what a ReFL run is made of, checked with zod (unknown keys rejected) before anything is
// built. The defaults are ImageReward's ReFL (40 DDPM steps, the gradient step drawn from 30-39,
// lambda 0.05, L_reward = -R as the paper writes it); every failure reads
// `Expected <what> for <path> but received <value>`.
import { z } from 'zod';

import { PRECISIONS } from '../api/autograd.js';
import { parseWith } from '../diffusion/config-check.js';
import { SCHEDULER_KINDS, PREDICTION_TYPES } from '../diffusion/schedulers/scheduler-config.js';
import { LORA_PROJECTIONS } from '../models/unet.js';
import { expected } from '../native/errors.js';

const positiveInt = z.int().min(1);

/** Overrides of the model's scheduler for the ReFL sampler (its noise schedule stays the model's). */
const samplerSchema = z.strictObject({
  kind: z.enum(SCHEDULER_KINDS).default('ddpm'),
  eta: z.number().min(0).optional(),
  ancestral: z.boolean().optional(),
  timestepSpacing: z.enum(['leading', 'trailing', 'linspace']).optional(),
  predictionType: z.enum(PREDICTION_TYPES).optional(),
});

/** ReFL: one step with gradient at an index drawn from stopRange; DRaFT-K: the last k steps with gradient. */
const methodSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('refl'),
    /** Inclusive range of the index (0-based, in the run's timesteps) of the step taken with gradient. Defaults to [30, 39]. */
    stopRange: z.tuple([z.int().min(0), z.int().min(0)]).default([30, 39]),
  }),
  z.strictObject({
    kind: z.literal('draft'),
    /** Backpropagate through the last k denoising steps (DRaFT-K, Clark et al. 2024). Defaults to 1. */
    k: positiveInt.default(1),
  }),
]);

const samplingSchema = z.strictObject({
  /** Defaults to { kind: "ddpm" } (ImageReward's ReFL). */
  scheduler: samplerSchema.prefault({}),
  /** Denoising steps of a ReFL sample. Defaults to 40. */
  steps: positiveInt.default(40),
  method: methodSchema.prefault({ kind: 'refl' }),
  /** Classifier-free guidance in the steps without gradient; 1 (the default) is ImageReward's: none. */
  guidanceScale: z.number().min(1).default(1),
  /** Also guide the steps taken with gradient (doubles their cost). Defaults to false. */
  guidanceWithGradient: z.boolean().default(false),
  negativePrompt: z.string().default(''),
  /** Image size in pixels. Defaults to the model's. */
  size: positiveInt.optional(),
});

/** Which scalar of the reward model the generator climbs. */
const selectSchema = z.discriminatedUnion('kind', [
  /** The model's aggregate R (the tree's eq. 7-8). */
  z.strictObject({ kind: z.literal('aggregate') }),
  /** One leaf's (normalised) score. */
  z.strictObject({ kind: z.literal('leaf'), leaf: z.string().min(1) }),
  /** sum_k w_k r_k over named leaves. */
  z.strictObject({ kind: z.literal('leaves'), weights: z.record(z.string().min(1), z.number()) }),
]);

const objectiveSchema = z.strictObject({
  /** lambda of eq. 11. Defaults to 0.05. */
  lambda: z.number().min(0).default(0.05),
  /** "negative": L_reward = -R (eq. 9); "relu": relu(margin - R) (ImageReward's code). Defaults to "negative". */
  rewardLoss: z.enum(['negative', 'relu']).default('negative'),
  /** The margin of the relu form. Defaults to 2. */
  reluMargin: z.number().default(2),
  /** "combined": one update on L_pretrain + lambda L_reward (eq. 11); "alternating": an update on L_pretrain, then one on lambda L_reward. Defaults to "combined". */
  form: z.enum(['combined', 'alternating']).default('combined'),
  select: selectSchema.prefault({ kind: 'aggregate' }),
});

const loraSchema = z.strictObject({
  /** Defaults to 4. */
  rank: positiveInt.default(4),
  /** Defaults to the rank (scale 1). */
  alpha: z.number().positive().optional(),
  /** Defaults to the attention projections to_q, to_k, to_v, to_out.0. */
  targets: z.array(z.enum(LORA_PROJECTIONS)).min(1).default(['to_q', 'to_k', 'to_v', 'to_out.0']),
});

const trainSchema = z.strictObject({
  /** "unet": every UNet weight; "lora": adapters on its transformer projections only. Defaults to "unet". */
  target: z.enum(['unet', 'lora']).default('unet'),
  lora: loraSchema.prefault({}),
  /** Defaults to 1e-5 (ImageReward's). */
  learningRate: z.number().positive().default(1e-5),
  /** Defaults to 0.01. */
  weightDecay: z.number().min(0).default(0.01),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  /** Clip the global gradient norm to this; 0 for none. Defaults to 1. */
  maxGradNorm: z.number().min(0).default(1),
  /** Linear warm-up steps, then constant. Defaults to 0. */
  warmupSteps: z.int().min(0).default(0),
  /** Micro-batches whose gradients add up before an update. Defaults to 1. */
  gradientAccumulation: positiveInt.default(1),
  /** Recompute UNet, VAE and reward-backbone blocks in backward (DRaFT: whole denoising steps too). Defaults to false. */
  gradientCheckpointing: z.boolean().default(false),
  /** "bf16-mixed": the products (linear, matmul, conv2d, attention) in bf16 under autocast, weights and everything else float32. Defaults to "float32". */
  precision: z.enum(PRECISIONS).default('float32'),
});

const pretrainSchema = z.strictObject({
  /** A feedback store directory: the preferred images of its labelled pairs, with their prompts. */
  store: z.string().min(1),
  /** Defaults to "train". */
  split: z.enum(['train', 'validation', 'test']).default('train'),
  /** Pairs per micro-batch. Defaults to the ReFL batch size. */
  batchSize: positiveInt.optional(),
  /** Share of captions dropped to "" (keeps the unconditional model for guidance). Defaults to 0. */
  captionDropRate: z.number().min(0).max(1).default(0),
});

const rewardSchema = z.union([
  /** A reward model directory (weights.safetensors + reward.json: tree, one-head or decoupled). */
  z.string().min(1),
  z.strictObject({
    kind: z.literal('imagereward'),
    /** An ImageReward checkpoint converted to safetensors (blip.*, mlp.*). */
    weights: z.string().min(1),
    /** A folder with BLIP's BERT vocab.txt (or tokenizer.json). */
    tokenizer: z.string().min(1),
    /** Defaults to "sd15" (ImageReward's BLIP). */
    blip: z.union([z.enum(['tiny', 'bench', 'sd15']), z.record(z.string(), z.unknown())]).default('sd15'),
  }),
]);

const samplesSchema = z.strictObject({
  /** Write a grid every this many steps (and at the start and the end). */
  every: positiveInt,
  prompts: z.array(z.string()).min(1),
  /** Seed of the first image; image i uses seed + i. Defaults to 0. */
  seed: z.int().min(0).default(0),
  /** Defaults to the model's. */
  steps: positiveInt.optional(),
  /** Defaults to the model's. */
  guidanceScale: z.number().optional(),
});

export const reflConfigSchema = z.strictObject({
  /** A diffusion model directory: the generator to tune (or `runtime.model` in the TypeScript API). */
  model: z.string().min(1).optional(),
  /** The reward model (or `runtime.reward`). */
  reward: rewardSchema.optional(),
  /** Checkpoints, log.jsonl, samples/, and the tuned model/ go here. */
  output: z.string().min(1),
  /** Prompts the generator is tuned on: a list, or a text file with one per line. */
  prompts: z.union([z.array(z.string().min(1)).min(1), z.strictObject({ file: z.string().min(1) })]).optional(),
  /** Updates (optimizer steps; the alternating form makes two per step). */
  steps: positiveInt,
  /** Images per micro-batch. Defaults to 2. */
  batchSize: positiveInt.default(2),
  /** Seeds the run's one random stream (prompts, noise, stop steps, timesteps) and the data order. Defaults to 0. */
  seed: z.int().min(0).default(0),
  /** Where the models run: "cuda" moves the generator, the reward model and the run's tensors to the GPU. Defaults to "cpu". */
  device: z.enum(['cpu', 'cuda']).default('cpu'),
  sampling: samplingSchema.prefault({}),
  objective: objectiveSchema.prefault({}),
  train: trainSchema.prefault({}),
  /** The real (prompt, image) pairs of L_pretrain (eq. 10); null for none (then L = lambda L_reward). */
  pretrain: pretrainSchema.nullable().default(null),
  /** A checkpoint every this many steps (and at the end, and on abort); 0: only those. Defaults to 0. */
  checkpointEvery: z.int().min(0).default(0),
  /** Defaults to 2. */
  keepCheckpoints: positiveInt.default(2),
  /** Go on from the newest checkpoint under output/checkpoints. Defaults to false. */
  resume: z.boolean().default(false),
  samples: samplesSchema.optional(),
  /** Write the tuned model (merged LoRA) to output/model at the end. Defaults to true. */
  saveModel: z.boolean().default(true),
});

export type ReflConfigInput = z.input<typeof reflConfigSchema>;
export type ReflConfig = z.output<typeof reflConfigSchema>;
export type RewardSelect = ReflConfig['objective']['select'];
export type ReflMethod = ReflConfig['sampling']['method'];

/** Validates a ReFL config, then the relations between its fields. */
export function parseReflConfig(value: unknown, name = 'config'): ReflConfig {
  const c = parseWith(reflConfigSchema, value, name);
  const { steps, method } = c.sampling;
  if (method.kind === 'refl') {
    const [lo, hi] = method.stopRange;
    if (hi < lo) throw expected(`an upper end >= the lower end (${lo})`, `${name}.sampling.method.stopRange[1]`, hi);
    if (hi >= steps) throw expected(`an index below sampling.steps (${steps})`, `${name}.sampling.method.stopRange[1]`, hi);
  } else if (method.k > steps) {
    throw expected(`at most sampling.steps (${steps})`, `${name}.sampling.method.k`, method.k);
  }
  if (c.train.warmupSteps > c.steps) throw expected(`at most steps (${c.steps})`, `${name}.train.warmupSteps`, c.train.warmupSteps);
  if (c.objective.select.kind === 'leaves' && Object.keys(c.objective.select.weights).length === 0) {
    throw expected('at least one leaf', `${name}.objective.select.weights`, c.objective.select.weights);
  }
  return c;
}
