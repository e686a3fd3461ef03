// eval-stage.ts: stage 4, the evaluation on the benchmark's first N prompts per dimension. With
// ReFL's outputs: the base generator and every tuned one, each tuned group against the base and the
// tree against each other variant (same training seed). Without them: the world renderer at two
// qualities stands in for the base and a tuned generator, and every figure says so. The reward
// models of the first training seed score every image; CLIP and aesthetic scores need the world
// CLIP (providers). Outputs: { evaluation: 'eval/evaluation.json', standIn }.
import { join } from 'node:path';

import { loadRewardModel } from '../../../reward/checkpoint.js';
import type { RewardModel } from '../../../reward/reward-model.js';
import { evaluate, EVALUATION_FILE, type EvaluationFile } from '../../evaluation.js';
import { benchmarkPrompts } from '../../prompts.js';
import type { GeneratorInfo } from '../../records.js';
import { evaluationTables } from '../../tables.js';
import type { DemoConfig } from '../demo-config.js';
import { isMissing, type DemoProviders } from '../providers.js';
import type { Stage } from '../stages.js';
import type { ReflOutputs } from './refl-stage.js';
import type { RewardOutputs } from './reward-stage.js';

export const STAND_IN_NOTE = 'stand-in: the world renderer at a fixed quality, used until the world base generator and ReFL exist; its numbers exercise the evaluation and are not results of feedback learning';

/** The generators and comparisons of the evaluation. */
export function evaluationPlan(config: DemoConfig, refl: ReflOutputs | undefined): { generators: GeneratorInfo[]; comparisons: [string, string][]; base: string; standIn: boolean } {
  if (!refl || refl.tuned.length === 0) {
    const q = (spec: string) => spec.replace(/^world:quality=/, 'q');
    return {
      generators: [
        { name: 'base', group: 'base', run: 0, spec: config.standIn.base, label: `base (world ${q(config.standIn.base)})`, standIn: `${STAND_IN_NOTE} (the base generator)` },
        { name: 'tuned', group: 'tuned', run: 0, spec: config.standIn.tuned, label: `tuned (world ${q(config.standIn.tuned)})`, standIn: `${STAND_IN_NOTE} (a tuned generator)` },
      ],
      comparisons: [['tuned', 'base']],
      base: 'base',
      standIn: true,
    };
  }
  const generators: GeneratorInfo[] = [{ name: 'base', group: 'base', run: 0, spec: refl.base, label: 'base' }];
  for (const t of refl.tuned) generators.push({ name: `${t.variant}/seed-${t.seed}`, group: t.variant, run: t.seed, spec: t.generator, label: `${t.variant}/seed-${t.seed}` });
  const comparisons: [string, string][] = refl.tuned.map((t) => [`${t.variant}/seed-${t.seed}`, 'base']);
  for (const t of refl.tuned.filter((x) => x.variant === 'tree')) {
    for (const o of refl.tuned.filter((x) => x.variant !== 'tree' && x.seed === t.seed)) comparisons.push([`tree/seed-${t.seed}`, `${o.variant}/seed-${o.seed}`]);
  }
  return { generators, comparisons, base: 'base', standIn: false };
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function evalStage(config: DemoConfig, seed: number, providers: DemoProviders): Stage {
  return {
    name: 'evaluate',
    title: 'evaluation',
    async run(ctx) {
      const plan = evaluationPlan(config, ctx.outputsOf<ReflOutputs>('refl'));
      const rewardOutputs = ctx.outputsOf<RewardOutputs>('rewards');
      const rewards: { name: string; model: RewardModel }[] = (rewardOutputs?.runs ?? [])
        .filter((r) => r.seed === 0)
        .map((r) => ({ name: r.variant, model: loadRewardModel(join(ctx.runDir, r.model)) }));
      const clip = providers.clip();
      const missing: EvaluationFile['missing'] = {};
      if (isMissing(clip)) missing.clip = missing.aesthetic = clip.missing;
      else if (!clip.aesthetic) missing.aesthetic = `${clip.source} has no aesthetic head`;
      const reflRecord = ctx.manifest.stages.find((s) => s.name === 'refl');
      if (plan.standIn) ctx.log(`generators: stand-ins (${reflRecord?.reason ?? 'no tuned generators'}): ${plan.generators.map((g) => g.spec).join(' and ')}`);
      if (missing.clip) ctx.log(`CLIP and aesthetic scores: not computed (${missing.clip})`);
      const prompts = benchmarkPrompts(config.evalPerDimension);
      const bar = ctx.progress('evaluate', 1);
      try {
        const e = await evaluate({
          runDir: ctx.runDir, generators: plan.generators, comparisons: plan.comparisons, base: plan.base,
          prompts, promptSource: `the fixed benchmark (src/world/benchmark-prompts.json): the first ${config.evalPerDimension} of 100 prompts per dimension`,
          seeds: Array.from({ length: config.evalSeeds }, (_, i) => i),
          expert: { flipRate: config.flipRate, tieBand: config.tieBand, seed },
          rewards, clip: isMissing(clip) ? undefined : clip, missing, gridColumns: config.gridColumns,
          onProgress: (done, total) => bar.update(done, total), signal: ctx.signal,
        });
        const tables = evaluationTables(e.file, e.items, e.comparisonItems);
        const lines = tables.comparisons.map((c) => `${c.a} vs ${c.b}: win ${pct(c.byPrompt.winRate)}, tie ${pct(c.byPrompt.tieRate)}, loss ${pct(c.byPrompt.lossRate)}`);
        for (const l of lines) ctx.log(l);
        return {
          status: 'done',
          summary: `${prompts.length} prompts x ${config.evalSeeds} seeds x ${plan.generators.length} generators${plan.standIn ? ' (stand-ins)' : ''}; ${lines[0] ?? 'no comparisons'}`,
          outputs: { evaluation: EVALUATION_FILE, standIn: plan.standIn },
        };
      } finally {
        bar.stop();
        if (!isMissing(clip)) clip.dispose();
        for (const r of rewards) r.model.dispose();
      }
    },
  };
}
