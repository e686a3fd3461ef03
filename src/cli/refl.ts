// refl.ts: `treereward refl --config run.json [--resume] [--json]`: ReFL fine-tuning of a diffusion
// model directory with a reward model (src/refl/config.ts documents every key; unknown keys are
// rejected), a line of progress per step on stderr, Ctrl-C stops after the current step with a
// checkpoint to resume from. `treereward refl --experiment exp.json` tunes one base generator with
// each named reward under the same budget and seeds and reports the judges' per-dimension scores
// (src/refl/experiment.ts); in an experiment file, "evaluation.prompts": "world-benchmark" stands for
// the world's benchmark prompts and "refl.prompts": "world-training" for 50 training prompts per
// dimension (none of them a benchmark prompt), judged by the world's judges.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';

import { DIMENSIONS } from '../api/interfaces.js';
import { runExperiment, type ExperimentProgress, type ExperimentResult } from '../refl/experiment.js';
import { runRefl, type ReflProgress, type ReflResult } from '../refl/run-refl.js';
import { loadBenchmark, trainingPrompt } from '../world/benchmark.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { onStopSignals } from './stop-signals.js';

interface ReflCliOptions {
  config?: string;
  experiment?: string;
  resume?: boolean;
  json?: boolean;
}

function readJson(file: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`Expected a readable JSON file for ${flag} but ${(e as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('it is not an object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new Error(`Expected a JSON object in ${file} for ${flag} but ${(e as Error).message}`);
  }
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));

/** One line per step: losses, R, the leaves, the gradient norm. */
export function formatStep(p: ReflProgress): string {
  const leaves = p.leaves ? `  [${Object.entries(p.leaves).map(([k, v]) => `${k} ${f3(v)}`).join(', ')}]` : '';
  return `step ${p.step}/${p.totalSteps}  L ${f3(p.loss)}  L_pretrain ${f3(p.lossPretrain)}  L_reward ${f3(p.lossReward)}  R ${f3(p.reward)}${leaves}  |g| ${f3(p.gradNorm)}  ${p.seconds.toFixed(2)} s${p.checkpoint ? `  checkpoint ${p.checkpoint}` : ''}`;
}

/** An experiment file with the world shortcuts expanded. */
function expandWorld(config: Record<string, unknown>): Record<string, unknown> {
  const out = { ...config };
  const evaluation = out.evaluation as Record<string, unknown> | undefined;
  if (evaluation?.prompts === 'world-benchmark') out.evaluation = { ...evaluation, prompts: loadBenchmark().prompts };
  const refl = out.refl as Record<string, unknown> | undefined;
  if (refl?.prompts === 'world-training') {
    out.refl = { ...refl, prompts: DIMENSIONS.flatMap((d) => Array.from({ length: 50 }, (_, i) => trainingPrompt(d, i))) };
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('refl')
    .description('ReFL fine-tuning of a diffusion model with a reward model (--config), or a comparison of rewards (--experiment)')
    .option('--config <file>', 'a ReFL run (JSON): model, reward, prompts, output, steps, ...')
    .option('--experiment <file>', 'an experiment (JSON): base, rewards, seeds, refl (the shared budget), evaluation, output')
    .option('--resume', 'go on from the newest checkpoint (same as "resume": true)')
    .option('--json', 'print the result as one JSON document (no progress lines)')
    .action(async (opts: ReflCliOptions) => {
      if ((opts.config === undefined) === (opts.experiment === undefined)) {
        throw new Error(`Expected exactly one of --config and --experiment but received ${opts.config === undefined ? 'neither' : 'both'}`);
      }
      const stop = new AbortController();
      const offSignals = onStopSignals(() => stop.abort());
      try {
        if (opts.config !== undefined) {
          const file = resolve(opts.config);
          const config = readJson(file, '--config');
          if (opts.resume) config.resume = true;
          const result: ReflResult = await runRefl(config, {
            baseDir: dirname(file), signal: stop.signal,
            onProgress: opts.json ? undefined : (p) => console.error(formatStep(p)),
          });
          if (opts.json) console.log(JSON.stringify({ ok: true, ...result }, null, 2));
          else console.log(`ReFL: ${result.steps} steps in ${result.seconds.toFixed(1)} s; log ${result.logFile}${result.modelDir ? `; model ${result.modelDir}` : ''}${result.loraFile ? `; adapters ${result.loraFile}` : ''}`);
        } else {
          const file = resolve(opts.experiment as string);
          const config = expandWorld(readJson(file, '--experiment'));
          const report = (e: ExperimentProgress) => {
            if (e.phase === 'train') console.error(`${e.reward} seed ${e.seed}: ${formatStep(e.step)}`);
            else if (e.done === e.total) console.error(`${e.reward}${e.seed === null ? '' : ` seed ${e.seed}`}: evaluated ${e.dimension}`);
          };
          const result: ExperimentResult = await runExperiment(config, {
            judges: Object.values(WORLD_JUDGES), baseDir: dirname(file), signal: stop.signal, onProgress: opts.json ? undefined : report,
          });
          if (opts.json) console.log(JSON.stringify({ ok: true, ...result }, null, 2));
          else console.log(readFileSync(result.reportFile, 'utf8'));
        }
      } finally {
        offSignals();
      }
    });
}
