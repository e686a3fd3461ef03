// demo.ts: `treereward demo` as a library call: the paper's pipeline on the synthetic world in five
// checkpointed stages (feedback pairs -> reward models -> ReFL -> evaluation -> report) over one run
// directory. A rerun with the same settings resumes where the last one stopped; other settings in an
// existing run directory are refused. The stage registry is the seam: ReFL's stage runs through the
// providers' ReflRunner and waits while there is none.
import { existsSync } from 'node:fs';

import { DEMO_CONFIGS, type DemoConfig, type DemoMode } from './demo-config.js';
import { defaultProviders, type DemoProviders } from './providers.js';
import { manifestPath, readManifest, RUN_FORMAT, writeManifest, type RunManifest } from './run-dir.js';
import { runStages, StageRegistry, type RunEvents, type RunResult } from './stages.js';
import { dataStage } from './stages/data-stage.js';
import { evalStage } from './stages/eval-stage.js';
import { reflStage } from './stages/refl-stage.js';
import { reportStage } from './stages/report-stage.js';
import { rewardStage } from './stages/reward-stage.js';

export interface DemoOptions {
  mode: DemoMode;
  seed: number;
  runDir: string;
  /** The command line, recorded in run.json. */
  command: string;
  providers?: DemoProviders;
  /** Changes to the stages (tests swap in stand-ins); applied after the demo's own. */
  customize?: (registry: StageRegistry) => void;
  /** Changes to the mode's sizes (tests shrink them); recorded in run.json. */
  overrides?: Partial<DemoConfig>;
  signal?: AbortSignal;
  events?: RunEvents;
}

/** The demo's stages in order. */
export function demoRegistry(config: DemoConfig, seed: number, providers: DemoProviders): StageRegistry {
  return new StageRegistry()
    .register(dataStage(config, seed, providers))
    .register(rewardStage(config, seed, providers))
    .register(reflStage(config, seed, providers))
    .register(evalStage(config, seed, providers))
    .register(reportStage());
}

export function demoConfig(mode: DemoMode, overrides: Partial<DemoConfig> = {}): DemoConfig {
  return { ...DEMO_CONFIGS[mode], ...overrides, mode };
}

/** Creates run.json, or checks that an existing one was made with the same settings. */
export function openRun(runDir: string, mode: string, seed: number, config: Record<string, unknown>, command: string): RunManifest {
  if (existsSync(manifestPath(runDir))) {
    const m = readManifest(runDir);
    if (m.mode !== mode || m.seed !== seed || JSON.stringify(m.config) !== JSON.stringify(config)) {
      throw new Error(`Expected ${runDir} to hold a run with the same settings (mode ${mode}, seed ${seed}) to resume but it holds one with mode ${m.mode}, seed ${m.seed}${JSON.stringify(m.config) !== JSON.stringify(config) ? ' and other sizes' : ''}; choose another --out or remove it`);
    }
    return m;
  }
  const m: RunManifest = { format: RUN_FORMAT, mode, seed, command, config, createdAt: new Date().toISOString(), stages: [] };
  writeManifest(runDir, m);
  return m;
}

export async function runDemo(o: DemoOptions): Promise<RunResult> {
  const config = demoConfig(o.mode, o.overrides);
  openRun(o.runDir, o.mode, o.seed, config as unknown as Record<string, unknown>, o.command);
  const registry = demoRegistry(config, o.seed, o.providers ?? defaultProviders());
  o.customize?.(registry);
  return runStages(o.runDir, registry, o.signal ?? new AbortController().signal, o.events);
}
