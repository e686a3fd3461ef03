// demo.test.ts: `treereward demo --quick` end to end in this process: stopped after its first stage
// and resumed, every stage's line, the report with every section that has data, and the CLI on the
// finished run. Then the ReFL seam for real: the same run's data and reward models, src/refl's
// runRefl on a tiny diffusion model standing in for the world base generator, and the
// evaluation and report of the tuned generators against it.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli/main.js';
import { buildDiffusionModel, saveDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import type { EvaluationFile } from '../../src/eval/evaluation.js';
import { runDemo } from '../../src/eval/run/demo.js';
import { defaultProviders } from '../../src/eval/run/providers.js';
import { reflRunner } from '../../src/eval/run/refl-runner.js';
import { readManifest, readRunJson, type RunManifest, type StageRecord } from '../../src/eval/run/run-dir.js';
import { tinySpec } from '../diffusion/tiny-model.js';

const dir = mkdtempSync(join(tmpdir(), 'treereward-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runDir = join(dir, 'quick');

async function cli(...args: string[]): Promise<{ stdout: string; error: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await main(['node', 'treereward', ...args]);
    return { stdout: lines.join('\n'), error: '' };
  } catch (err) {
    return { stdout: lines.join('\n'), error: (err as Error).message };
  } finally {
    log.mockRestore();
  }
}

const statuses = (m: RunManifest) => Object.fromEntries(m.stages.map((s) => [s.name, s.status]));

describe('treereward demo --quick', () => {
  it('runs end to end, resuming after a stop, and writes a report with every section that has data', async () => {
    const lines: string[] = [];
    const events = {
      log: (l: string) => lines.push(`    ${l}`),
      onStageEnd: (i: number, n: number, r: StageRecord, skipped: boolean) => lines.push(`[${i + 1}/${n}] ${r.name}: ${r.status} ${skipped ? '(earlier sitting)' : `${r.seconds.toFixed(1)} s`} ${r.summary ?? r.reason ?? ''}`),
    };
    const t0 = Date.now();
    const first = await runDemo({ mode: 'quick', seed: 0, runDir, command: 'treereward demo --quick', events: { ...events, stopAfter: 'data' } });
    expect(first.stopped).toBe(true);
    expect(statuses(readManifest(runDir))).toEqual({ data: 'done', rewards: 'pending', refl: 'pending', evaluate: 'pending', report: 'pending' });
    const second = await runDemo({ mode: 'quick', seed: 0, runDir, command: 'treereward demo --quick', events });
    console.log(`quick demo in ${((Date.now() - t0) / 1000).toFixed(0)} s:\n${lines.join('\n')}`);
    expect(second.stopped).toBe(false);
    const m = readManifest(runDir);
    const s = statuses(m);
    expect(s.data).toBe('done');
    expect(m.stages[0]!.sittings).toBe(1); // not run again
    expect(s.rewards).toBe('done');
    expect(s.evaluate).toBe('done');
    expect(s.report).toBe('done');
    const evaluation = readRunJson<EvaluationFile>(runDir, 'eval/evaluation.json');
    const report = m.stages.find((x) => x.name === 'report')!.outputs as { html: string; figures: string[]; sections: { shown: string[]; missing: string[] } };
    expect(existsSync(join(runDir, report.html))).toBe(true);
    if (s.refl === 'waiting') {
      // ReFL waits for the world base generator: stand-ins, said in the output and the report
      expect(m.stages.find((x) => x.name === 'refl')!.reason).toMatch(/base generator/);
      expect(evaluation.generators.map((g) => [g.name, g.spec, !!g.standIn])).toEqual([['base', 'world:quality=0.5', true], ['tuned', 'world:quality=0.7', true]]);
      expect(lines.some((l) => l.includes('generators: stand-ins'))).toBe(true);
    } else {
      // the shipped world base generator: a quarter of each dimension's pairs are its own samples,
      // and ReFL tunes it with each reward
      const data = m.stages.find((x) => x.name === 'data')!.outputs as { samples: { share: number; pairs: number } | null };
      expect(data.samples).toMatchObject({ share: 0.25, pairs: 90 });
      expect(s.refl).toBe('done');
      expect(evaluation.generators.map((g) => [g.name, !!g.standIn])).toEqual([['base', false], ['data-scale/seed-0', false], ['tree/seed-0', false]]);
    }
    // every section has data: the only thing missing is inside sections (CLIP, ReFL curves)
    expect(report.sections.shown).toEqual(['summary', 'radar', 'improvement', 'win-tie-loss', 'metrics', 'rewards', 'curves', 'grids']);
    expect(report.sections.missing).toEqual([]);
    expect(report.figures.length).toBeGreaterThanOrEqual(9);
    expect(evaluation.prompts.count).toBe(120);
    expect(evaluation.rewardModels).toEqual(['data-scale', 'tree']);
  }, 1_200_000); // about a minute on a quiet machine; a shared, loaded one can take many

  it('the CLI on the finished run: every stage done in an earlier sitting, and where the report is', async () => {
    const r = await cli('demo', '--quick', '--out', runDir);
    expect(r.error).toBe('');
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(`treereward demo (quick, seed 0) in ${runDir}`);
    // every stage was done before; ReFL, if it was waiting (no base generator shipped), is tried again (its input may have arrived)
    const reflWaited = statuses(readManifest(runDir)).refl === 'waiting';
    for (const [k, title] of [[1, 'feedback pairs'], [2, 'reward models'], [4, 'evaluation'], [5, 'report']] as const) {
      expect(out.filter((l) => l.startsWith(`[${k}/5] ${title}: `) && l.endsWith('(done in an earlier sitting)')), title).toHaveLength(1);
    }
    if (reflWaited) expect(out.filter((l) => l.startsWith('[3/5] ReFL fine-tuning: WAITING: '))).toHaveLength(1);
    else expect(out.filter((l) => l.startsWith('[3/5] ReFL fine-tuning: ') && l.endsWith('(done in an earlier sitting)'))).toHaveLength(1);
    expect(out[out.length - 1]).toMatch(new RegExp(`^report: ${runDir}/report/index.html \\(\\d+ s in all\\)$`));
    expect((await cli('demo', '--quick', '--seed', '1', '--out', runDir)).error).toMatch(/^Expected .* to hold a run with the same settings \(mode quick, seed 1\) to resume but it holds one with mode quick, seed 0/);
    expect((await cli('demo', '--quick', '--full')).error).toBe('Expected at most one of --quick and --full but received both');
  }, 600_000);

  it('runs the ReFL stage for real through the seam: runRefl on a tiny base generator, then its evaluation and report', async () => {
    const run2 = join(dir, 'refl');
    cpSync(join(runDir, 'data'), join(run2, 'data'), { recursive: true });
    cpSync(join(runDir, 'rewards'), join(run2, 'rewards'), { recursive: true });
    const base = join(dir, 'tiny-base');
    const model = buildDiffusionModel(tinySpec(), 0);
    saveDiffusionModel(base, model);
    model.dispose();
    const quick = readManifest(runDir);
    expect(statuses(quick).rewards, 'the quick demo (the first test) trained its reward models').toBe('done');
    const providers = {
      ...defaultProviders(),
      baseGenerator: () => ({ spec: base, source: 'a tiny random diffusion model (test)' }),
      // the whole UNet trains here (LoRA itself is ReFL's to test; the demo's default is LoRA)
      refl: reflRunner({
        batchSize: 1, train: { target: 'unet', learningRate: 1e-3 },
        sampling: { scheduler: { kind: 'ddim' as const }, steps: 4, method: { kind: 'refl' as const, stopRange: [1, 3] as [number, number] } },
      }),
    };
    const lines: string[] = [];
    const r = await runDemo({
      mode: 'quick', seed: 0, runDir: run2, command: 'test', providers,
      overrides: { evalPerDimension: 1, evalSeeds: 1, gridColumns: 1, refl: { steps: 2, loraRank: 2, lambda: 0.05 } },
      // the first run's data and reward models, not rebuilt
      customize: (registry) => {
        for (const name of ['data', 'rewards']) {
          const rec = quick.stages.find((x) => x.name === name)!;
          registry.replace({ name, title: rec.title, run: async () => ({ status: 'done', summary: `${rec.summary} (copied)`, outputs: rec.outputs }) });
        }
      },
      events: { log: (l) => lines.push(l) },
    });
    expect(r.stopped).toBe(false);
    const m = readManifest(run2);
    expect(statuses(m)).toEqual({ data: 'done', rewards: 'done', refl: 'done', evaluate: 'done', report: 'done' });
    const refl = m.stages.find((x) => x.name === 'refl')!.outputs as { tuned: { variant: string; steps: number; generator: string; log: string }[] };
    expect(refl.tuned.map((t) => [t.variant, t.steps])).toEqual([['data-scale', 2], ['tree', 2]]);
    for (const t of refl.tuned) expect(existsSync(join(t.generator, 'model_index.json'))).toBe(true);
    const evaluation = readRunJson<EvaluationFile>(run2, 'eval/evaluation.json');
    expect(evaluation.generators.map((g) => [g.name, g.group, !!g.standIn])).toEqual([['base', 'base', false], ['data-scale/seed-0', 'data-scale', false], ['tree/seed-0', 'tree', false]]);
    expect(evaluation.comparisons).toEqual([['data-scale/seed-0', 'base'], ['tree/seed-0', 'base'], ['tree/seed-0', 'data-scale/seed-0']]);
    const report = m.stages.find((x) => x.name === 'report')!.outputs as { figures: string[]; sections: { shown: string[] } };
    expect(report.sections.shown).toContain('curves');
    expect(report.figures.some((f) => f.endsWith('curves-refl-reward.png'))).toBe(true);
    expect(report.figures.some((f) => f.endsWith('curves-refl-loss.png'))).toBe(true);
  }, 240_000);
});
