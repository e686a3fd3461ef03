// run-facts.ts: what every pretraining run records beside its weights (the asset JSON's shared part).

export interface PretrainRunFacts {
  tokenizer: { kind: 'word'; vocab: string[]; maxLength: number };
  files: string[];
  command: string;
  seed: number;
  steps: number;
  batch: number;
  /** Distinct training scenes (null: a new scene for every pair). */
  scenes: number | null;
  lr: number;
  parameters: number;
  /** Summed wall time of the training steps (over resumed runs too), seconds. */
  trainingSeconds: number;
  msPerStep: number;
  /** Wall time of the last run (evaluations and writing included), seconds. */
  wallSeconds: number;
  codeVersion: string;
  losses: { first: number | null; last: number | null; lastMean: number | null };
}
