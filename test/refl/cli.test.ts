// cli.test.ts: `treereward refl --config run.json --json` on a saved tiny model and reward model
// (paths relative to the config file), its progress lines, and its errors.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';

import { register } from '../../src/cli/refl.js';
import { saveDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { saveRewardModel } from '../../src/reward/checkpoint.js';
import { PROMPTS, tempDir, tinyModel, tinyTree } from './helpers.js';

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; error: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...p: unknown[]) => void out.push(p.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...p: unknown[]) => void err.push(p.join(' ')));
  const program = new Command().exitOverride();
  register(program);
  try {
    await program.parseAsync(['node', 'treereward', ...args]);
    return { stdout: out.join('\n'), stderr: err.join('\n'), error: '' };
  } catch (e) {
    return { stdout: out.join('\n'), stderr: err.join('\n'), error: (e as Error).message };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('treereward refl', () => {
  const dir = tempDir('cli');
  const model = tinyModel(1), reward = tinyTree(2);
  saveDiffusionModel(join(dir, 'model'), model);
  saveRewardModel(join(dir, 'reward'), reward);
  model.dispose();
  reward.dispose();
  writeFileSync(join(dir, 'prompts.txt'), `${PROMPTS.join('\n')}\n`);
  const config = {
    model: 'model', reward: 'reward', prompts: { file: 'prompts.txt' }, output: 'run', steps: 2, batchSize: 2, seed: 1,
    sampling: { scheduler: { kind: 'ddim' }, steps: 4, method: { kind: 'refl', stopRange: [1, 3] } },
    train: { target: 'lora', lora: { rank: 2 }, learningRate: 1e-3 },
  };

  it('runs a config file and reports the run as JSON; progress lines without --json', async () => {
    writeFileSync(join(dir, 'run.json'), JSON.stringify(config));
    const r = await cli('refl', '--config', join(dir, 'run.json'), '--json');
    expect(r.error).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, steps: 2, resumedFrom: null, modelDir: join(dir, 'run', 'model'), loraFile: join(dir, 'run', 'lora.safetensors') });
    expect(existsSync(join(dir, 'run', 'model', 'model_index.json'))).toBe(true);
    writeFileSync(join(dir, 'run2.json'), JSON.stringify({ ...config, output: 'run2', steps: 1, saveModel: false }));
    const plain = await cli('refl', '--config', join(dir, 'run2.json'));
    expect(plain.error).toBe('');
    expect(plain.stderr).toMatch(/^step 1\/1 {2}L [\d.-]+ {2}L_pretrain - {2}L_reward [\d.-]+ {2}R [\d.-]+ {2}\[content [\d.-]+, style [\d.-]+, color [\d.-]+, lighting [\d.-]+, layout [\d.-]+, detail [\d.-]+\] {2}\|g\| [\d.]+ {2}[\d.]+ s {2}checkpoint .*step-00000001$/);
    expect(plain.stdout).toMatch(/^ReFL: 1 steps in [\d.]+ s; log .*run2\/log.jsonl; adapters .*run2\/lora.safetensors$/);
  });

  it('names what is wrong', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...config, train: { ...config.train, rank: 2 } }));
    expect((await cli('refl', '--config', join(dir, 'bad.json'))).error).toMatch(/^Expected no .*rank.* for config.train but received/);
    expect((await cli('refl')).error).toBe('Expected exactly one of --config and --experiment but received neither');
    expect((await cli('refl', '--config', join(dir, 'none.json'))).error).toMatch(/^Expected a readable JSON file for --config but ENOENT/);
    writeFileSync(join(dir, 'nomodel.json'), JSON.stringify({ ...config, model: 'nowhere', output: 'run3' }));
    expect((await cli('refl', '--config', join(dir, 'nomodel.json'))).error).toMatch(/^Expected a model directory with model_index.json for dir but received ".*nowhere"/);
  });
});
