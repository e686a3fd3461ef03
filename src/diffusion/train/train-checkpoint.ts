// train-checkpoint.ts: everything a training run needs to go on exactly where it stopped, one folder
// per checkpoint:
//   <dir>/step-00000042/weights.safetensors    trainable parameters as "<part>.<name>"
//                       optimizer.safetensors  AdamW's moments and step counts ("<index>.m", ...)
//                       state.json             step, random stream position, data position, losses
// A checkpoint is written to "<name>.partial" and renamed when complete, so a crash mid-write
// leaves the previous one as the latest.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Optimizer } from '../../api/optim/optimizer.js';
import type { Tensor } from '../../api/tensor.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import { TreeRewardError } from '../../native/errors.js';
import { copyParameters } from '../pipeline/model-dir.js';
import type { ParameterHolder } from '../types.js';
import type { DataPosition } from './image-text-data.js';

export const CHECKPOINT_FORMAT = 'treereward-train-checkpoint';

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** The task that wrote it ("diffusion", "vae"). */
  task: string;
  /** Optimizer steps done. */
  step: number;
  /** The run's random stream (noise, timesteps, caption drops). */
  rng: { seed: number; offset: number };
  data: DataPosition;
  /** The loss of every step so far. */
  losses: number[];
  /** The trainable parameters' names, in the optimizer's order. */
  parameters: string[];
}

/** The trainable parameters of named parts, flattened as "<part>.<name>" in a fixed order. */
export function trainableParameters(parts: Record<string, ParameterHolder>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [prefix, holder] of Object.entries(parts)) for (const [name, p] of holder.parameters()) out.set(`${prefix}.${name}`, p);
  return out;
}

const stepDir = (dir: string, step: number) => join(dir, `step-${String(step).padStart(8, '0')}`);

/** Writes a checkpoint and returns its folder. */
export function saveTrainingCheckpoint(dir: string, state: CheckpointState, params: Map<string, Tensor>, optimizer: Optimizer<{ lr: number }>): string {
  const final = stepDir(dir, state.step);
  const partial = `${final}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeSafetensors(join(partial, 'weights.safetensors'), params, { task: state.task, step: String(state.step) });
  const opt = optimizer.state();
  writeSafetensors(join(partial, 'optimizer.safetensors'), opt.tensors, { stepCount: String(opt.stepCount) });
  for (const [k, t] of Object.entries(opt.tensors)) if (k.endsWith('.step')) t.dispose();
  writeFileSync(join(partial, 'state.json'), `${JSON.stringify(state)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(partial, final);
  return final;
}

/** The folders of complete checkpoints in dir, oldest first. */
export function listTrainingCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^step-\d{8}$/.test(n) && existsSync(join(dir, n, 'state.json')))
    .sort()
    .map((n) => join(dir, n));
}

export function latestTrainingCheckpoint(dir: string): string | null {
  const all = listTrainingCheckpoints(dir);
  return all.length ? all[all.length - 1] : null;
}

/** Keeps the newest `keep` checkpoints. */
export function pruneTrainingCheckpoints(dir: string, keep: number): void {
  const all = listTrainingCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old, { recursive: true, force: true });
}

/** Reads a checkpoint's state.json. */
export function readCheckpointState(path: string): CheckpointState {
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(join(path, 'state.json'), 'utf8')) as CheckpointState;
  } catch (e) {
    throw new TreeRewardError('CORRUPT_FILE', `Expected a training checkpoint's state.json in ${path} but ${(e as Error).message}`);
  }
  if (state?.format !== CHECKPOINT_FORMAT || state.version !== 1) {
    throw new TreeRewardError('CORRUPT_FILE', `Expected a ${CHECKPOINT_FORMAT} (version 1) in ${path} but received format ${JSON.stringify(state?.format)}`);
  }
  return state;
}

/** Loads a checkpoint's weights and optimizer state into the run's parameters and optimizer; returns its state. */
export function loadTrainingCheckpoint(path: string, task: string, params: Map<string, Tensor>, optimizer: Optimizer<{ lr: number }>): CheckpointState {
  const state = readCheckpointState(path);
  if (state.task !== task) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a checkpoint of a ${task} run in ${path} but received one of a ${state.task} run`);
  const names = [...params.keys()];
  if (names.join('\n') !== state.parameters.join('\n')) {
    const missing = names.filter((n) => !state.parameters.includes(n)), extra = state.parameters.filter((n) => !names.includes(n));
    throw new TreeRewardError('SHAPE_MISMATCH', `Expected the checkpoint in ${path} to hold this run's ${names.length} trainable parameters in order but it differs (not in it: ${missing.slice(0, 5).join(', ') || 'none'}; only in it: ${extra.slice(0, 5).join(', ') || 'none'})`);
  }
  const weights = readSafetensors(join(path, 'weights.safetensors'));
  const opt = readSafetensors(join(path, 'optimizer.safetensors'));
  try {
    copyParameters(params, weights.tensors, `the checkpoint ${path}`);
    optimizer.loadState({ stepCount: Number(opt.metadata.stepCount ?? state.step), tensors: Object.fromEntries(opt.tensors) });
  } finally {
    for (const t of weights.tensors.values()) t.dispose();
    for (const t of opt.tensors.values()) t.dispose();
  }
  return state;
}
