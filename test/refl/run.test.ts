// run.test.ts: a ReFL run's operations on the tiny setting: frozen parts stay as they were, the log
// has a line per step with per-leaf rewards, sample grids are PNGs, a killed run resumes with the
// same next loss, a NaN in the reward stops the run with its last good checkpoint intact, the
// alternating form makes two updates a step, and DRaFT-K with checkpointing keeps memory bounded.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

import { buildInfo, memoryStats, resetPeakMemory, tensor, type Tensor } from '../../src/index.js';
import { latestTrainingCheckpoint, readCheckpointState } from '../../src/diffusion/train/train-checkpoint.js';
import { pretrainFromList } from '../../src/refl/pretrain-data.js';
import { runRefl, type ReflRuntime } from '../../src/refl/run-refl.js';
import { RunLog, type StepRecord } from '../../src/refl/run-log.js';
import type { RewardModel } from '../../src/reward/reward-model.js';
import { PROMPTS, pretrainPairs, tempDir, tinyConfig, tinyModel, tinyTree } from './helpers.js';

const snapshot = (params: Map<string, Tensor>) => new Map([...params].map(([n, p]) => [n, Array.from(p.toArray())]));

describe('a ReFL run', () => {
  const reward = tinyTree(2);
  const pretrain = pretrainFromList(pretrainPairs());
  afterAll(() => reward.dispose());
  const runtime = (model: ReturnType<typeof tinyModel>, extra: Partial<ReflRuntime> = {}): ReflRuntime => ({ model, reward, prompts: PROMPTS, pretrain, ...extra });

  it('updates the UNet only, logs every step with per-leaf rewards, and writes sample grids', async () => {
    const model = tinyModel(1);
    const frozen = { vae: snapshot(model.models.vae.parameters()), text: snapshot(model.models.textEncoder.parameters()), reward: snapshot(reward.parameters()) };
    const unetBefore = snapshot(model.models.unet.parameters());
    const out = tempDir('run');
    const steps: StepRecord[] = [];
    const result = await runRefl(tinyConfig(out, { samples: { every: 2, prompts: PROMPTS.slice(0, 2) } }), runtime(model, { onProgress: (p) => steps.push(p) }));
    expect(result.steps).toBe(3);
    for (const [part, before, now] of [['vae', frozen.vae, model.models.vae.parameters()], ['text', frozen.text, model.models.textEncoder.parameters()], ['reward', frozen.reward, reward.parameters()]] as const) {
      for (const [n, p] of now) {
        expect(p.grad, `${part}.${n} gradient`).toBeNull();
        expect(Array.from(p.toArray()), `${part}.${n}`).toEqual(before.get(n));
      }
    }
    const changed = [...model.models.unet.parameters()].filter(([n, p]) => Array.from(p.toArray()).some((v, i) => v !== unetBefore.get(n)![i]));
    expect(changed.length).toBeGreaterThan(100);
    // the log: start, three steps (losses, R, leaves, branches, stop indices in [1, 3]), end
    const log = RunLog.read(result.logFile);
    expect(log.map((r) => ('event' in r ? r.event : `step ${r.step}`))).toEqual(['start', 'step 1', 'step 2', 'step 3', 'end']);
    const rec = log[1] as StepRecord;
    expect(Object.keys(rec.leaves!)).toEqual(['content', 'style', 'color', 'lighting', 'layout', 'detail']);
    expect(Object.keys(rec.branches!)).toEqual(['semantic', 'aesthetic']);
    expect(rec.loss).toBeCloseTo(rec.lossPretrain! + 0.05 * rec.lossReward, 10);
    expect(rec.lossReward).toBeCloseTo(-rec.reward, 6);
    for (const r of log.slice(1, 4) as StepRecord[]) for (const j of r.stopIndices) expect(j >= 1 && j <= 3).toBe(true);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    // grids at the start, every 2 steps and at the end
    expect(result.sampleGrids.map((p) => p.slice(-17))).toEqual(['step-00000000.png', 'step-00000002.png', 'step-00000003.png']);
    const meta = await sharp(result.sampleGrids[0]).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 32, 16]);
    model.dispose();
  });

  it('resumes after a kill with the same next loss', async () => {
    const config = (out: string) => tinyConfig(out, { steps: 4, checkpointEvery: 2, train: { learningRate: 1e-3, target: 'unet' } });
    const straightModel = tinyModel(4);
    const straight = await runRefl(config(tempDir('straight')), runtime(straightModel));
    straightModel.dispose();
    // killed after step 3: the last checkpoint is step 2, the log has 3 steps
    const out = tempDir('killed');
    const killer = new AbortController();
    const killedModel = tinyModel(4);
    await expect(runRefl(config(out), runtime(killedModel, { signal: killer.signal, onProgress: (p) => p.step === 3 && killer.abort() }))).rejects.toThrow(
      /^Expected ReFL to run to the end but it was aborted after step 3 of 4 \(options.signal\); resume from .*step-00000003 with "resume": true$/,
    );
    killedModel.dispose();
    await expect(runRefl(config(out), runtime(straightModel))).rejects.toThrow(
      /^Expected an output directory without checkpoints for a fresh run \(or "resume": true to go on from them\) for config.output but received ".*killed.*"$/,
    );
    // a fresh process would start from the model directory again: a fresh model, resumed from step 3
    const resumedModel = tinyModel(4);
    const resumed = await runRefl({ ...config(out), resume: true }, runtime(resumedModel));
    resumedModel.dispose();
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.losses).toEqual(straight.losses);
    const log = RunLog.read(resumed.logFile).map((r) => ('event' in r ? r.event : r.step));
    expect(log).toEqual(['start', 1, 2, 3, 'abort', 'resume', 4, 'end']);
  });

  it('stops on a NaN reward with a clear message and its last good checkpoint intact', async () => {
    let calls = 0;
    const poisoned: RewardModel = {
      name: 'poisoned', imageSize: reward.imageSize, parameters: () => reward.parameters(), dispose: () => {},
      score: (prompts, images) => {
        const out = reward.score(prompts, images);
        return ++calls === 3 ? { ...out, reward: out.reward.mul(tensor([NaN, 1], [2])) } : out;
      },
    };
    const model = tinyModel(5);
    const out = tempDir('nan');
    await expect(runRefl(tinyConfig(out, { steps: 4, checkpointEvery: 1 }), { ...runtime(model), reward: poisoned })).rejects.toThrow(
      /^Expected a finite reward loss at step 3 but received NaN; the run stopped before updating, with its last good checkpoint at .*step-00000002 \(lower the learning rate or lambda, or check the reward model\)$/,
    );
    const latest = latestTrainingCheckpoint(join(out, 'checkpoints'))!;
    expect(latest.endsWith('step-00000002')).toBe(true);
    const state = readCheckpointState(latest);
    expect(state.step).toBe(2);
    expect(state.losses.every(Number.isFinite)).toBe(true);
    expect(existsSync(join(out, 'checkpoints', 'step-00000003'))).toBe(false);
    const events = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event: 'diverged', step: 2, what: 'reward loss', value: 'NaN' });
    model.dispose();
  });

  it('makes two updates a step in the alternating form, and needs no pretraining data without it', async () => {
    const model = tinyModel(6);
    const alt = await runRefl(tinyConfig(tempDir('alt'), { steps: 2, objective: { form: 'alternating' } }), runtime(model));
    const state = readCheckpointState(alt.lastCheckpoint!);
    expect(state.step).toBe(2);
    const log = RunLog.read(alt.logFile).filter((r): r is StepRecord => !('event' in r));
    expect(log.every((r) => r.gradNormPretrain! > 0 && r.gradNorm > 0)).toBe(true);
    const none = await runRefl(tinyConfig(tempDir('none'), { steps: 1, objective: { rewardLoss: 'relu', lambda: 1 } }), { ...runtime(model), pretrain: undefined });
    const only = RunLog.read(none.logFile).find((r): r is StepRecord => !('event' in r))!;
    expect(only.lossPretrain).toBeNull();
    expect(only.loss).toBeCloseTo(Math.max(0, 2 - only.reward), 5);
    model.dispose();
  });

  it('DRaFT-K: whole-step checkpointing keeps the same loss in less memory', async () => {
    const peak = async (checkpointing: boolean) => {
      const model = tinyModel(8);
      resetPeakMemory();
      const before = memoryStats().liveBytes;
      const r = await runRefl(tinyConfig(tempDir('draft'), {
        steps: 1, sampling: { scheduler: { kind: 'ddim' }, steps: 4, method: { kind: 'draft', k: 4 } }, train: { gradientCheckpointing: checkpointing },
      }), runtime(model));
      const used = memoryStats().peakBytes - before;
      model.dispose();
      return { loss: r.losses[0], used };
    };
    const plain = await peak(false), ckpt = await peak(true);
    expect(ckpt.loss).toBeCloseTo(plain.loss, 5);
    expect(ckpt.used).toBeLessThan(0.8 * plain.used);
  });

  it("precision 'bf16-mixed': the same run within bf16 rounding of float32's, the UNet's weights float32; with checkpointing too", async () => {
    const run = async (precision: 'float32' | 'bf16-mixed', gradientCheckpointing = false) => {
      const model = tinyModel(9);
      const r = await runRefl(tinyConfig(tempDir(`prec-${precision}`), { steps: 2, train: { learningRate: 1e-3, precision, gradientCheckpointing } }), runtime(model));
      const dtypes = new Set([...model.models.unet.parameters().values()].map((p) => p.dtype));
      model.dispose();
      return { losses: r.losses, rewards: r.rewards, dtypes };
    };
    const f32 = await run('float32'), mixed = await run('bf16-mixed'), mixedCkpt = await run('bf16-mixed', true);
    expect([...mixed.dtypes]).toEqual(['float32']);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(mixed.losses[i] - f32.losses[i])).toBeLessThan(0.02 * Math.abs(f32.losses[i]) + 1e-3);
      // recomputed blocks run in the precision of their forward: the same loss with checkpointing
      expect(mixedCkpt.losses[i]).toBeCloseTo(mixed.losses[i], 5);
    }
    if (buildInfo().bf16) expect(mixed.losses).not.toEqual(f32.losses);
    await expect(runRefl(tinyConfig(tempDir('prec-bad'), { train: { precision: 'fp16' as 'float32' } }), runtime(tinyModel(9)))).rejects.toThrow('precision');
  });
});
