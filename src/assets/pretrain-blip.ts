// pretrain-blip.ts: the world's BLIP backbone, pretrained on rendered scenes and their captions with
// ITC + ITM (blip-objectives.ts), the stand-in for pretrained BLIP. Writes to `out`:
//   checkpoint/           weights + optimizer + step (resumed from when present)
//   train-log.jsonl       one line per step (loss, parts, ms, lr) and per checkpoint (held-out R@1)
//   blip.safetensors      every parameter in float32 (the backbone and the ITC/ITM heads, BLIP's names)
//   blip.f16.safetensors  the same in float16 (with `half`)
//   blip.json             config, tokenizer vocabulary, command, seed, steps, time, metrics
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import type { BlipConfig } from '../models/blip-configs.js';
import { TreeRewardError } from '../native/errors.js';
import { blipLoss, stepRng } from './blip-objectives.js';
import { evaluateBlip, type BlipEvaluation } from './blip-eval.js';
import { codeVersion, writeJsonAtomic, writeWeights } from './asset-files.js';
import { runPretrainLoop, type StepInfo } from './pretrain-loop.js';
import { readStepLog } from './train-log.js';
import { heldOutSet, trainingBatch } from './scene-data.js';
import { WorldBlip } from './world-blip.js';
import { WORLD_BLIP_CONFIGS, type WorldBlipConfigName } from './world-configs.js';
import { worldTokenizer } from './world-text.js';
import type { PretrainRunFacts } from './run-facts.js';

export interface PretrainBlipOptions {
  out: string;
  /** Defaults to 'world'. */
  config?: WorldBlipConfigName;
  steps: number;
  /** Defaults to 32. */
  batch?: number;
  /** Distinct training scenes, cycled through (a finite data set). Defaults to a new scene for every pair. */
  scenes?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Peak learning rate. Defaults to 3e-4. */
  lr?: number;
  /** Defaults to 200. */
  checkpointEvery?: number;
  /** Held-out scenes for retrieval. Defaults to 256. */
  heldOut?: number;
  /** Held-out images for the per-dimension matching accuracy. Defaults to 128. */
  matchingN?: number;
  /** Also write float16 weights. Defaults to false. */
  half?: boolean;
  /** The command line, recorded in blip.json. */
  command?: string;
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void;
  /** Progress lines (held-out checks, files written). */
  log?: (line: string) => void;
}

export interface BlipAssetJson extends PretrainRunFacts {
  format: 'treereward-world-blip/1';
  config: BlipConfig;
  configName: WorldBlipConfigName;
  embedDim: number;
  metrics: BlipEvaluation;
}

export interface PretrainBlipReport extends BlipAssetJson {
  out: string;
  startStep: number;
  stopped: boolean;
}

const LOG = 'train-log.jsonl';

export async function pretrainBlip(options: PretrainBlipOptions): Promise<PretrainBlipReport> {
  const configName = options.config ?? 'world';
  const config = WORLD_BLIP_CONFIGS[configName];
  if (!config) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a config (${Object.keys(WORLD_BLIP_CONFIGS).join(', ')}) but received ${JSON.stringify(configName)}`);
  const { out, steps } = options;
  const batch = options.batch ?? 32, seed = options.seed ?? 0, lr = options.lr ?? 3e-4;
  const log = options.log ?? (() => {});
  const tokenizer = worldTokenizer();
  if (tokenizer.vocabSize > config.bert.vocab) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a config with at least ${tokenizer.vocabSize} word embeddings (the world's vocabulary) but ${configName} has ${config.bert.vocab}`);
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const version = codeVersion(); // the code this run starts with
  const model = new WorldBlip(config, seed);
  try {
    const params = model.parameters();
    const size = model.backbone.config.image_size;
    const heldOut = heldOutSet(seed, options.heldOut ?? 256, size);
    const noDecay = [...params].filter(([n, p]) => p.rank <= 1 || n === 'temp').map(([, p]) => p);
    const decay = [...params.values()].filter((p) => !noDecay.includes(p));
    const logFile = path.join(out, LOG);
    const result = await runPretrainLoop(params, [{ params: decay }, { params: noDecay, weightDecay: 0 }],
      (step) => blipLoss(model, tokenizer, trainingBatch(seed, step, batch, size, { scenes: options.scenes }), stepRng(seed, step)),
      {
        steps, lr, checkpointDir: path.join(out, 'checkpoint'), checkpointEvery: options.checkpointEvery ?? 200, signal: options.signal,
        afterStep: () => model.clampTemp(),
        onStep: (info) => {
          appendFileSync(logFile, JSON.stringify({ ...info, temp: model.temp.item() }) + '\n');
          options.onStep?.(info);
        },
        onCheckpoint: (step) => {
          if (step === steps) return; // the final evaluation follows
          const r = evaluateBlip(model, tokenizer, heldOut, { seed }).retrieval;
          appendFileSync(logFile, JSON.stringify({ step, heldOut: r }) + '\n');
          log(`step ${step}: held-out R@1 image->text ${pct(r.imageToText)}, text->image ${pct(r.textToImage)} (chance ${pct(r.chance)})`);
        },
      });
    if (result.stopped) log(`stopped at step ${result.endStep}; rerun the same command to resume`);
    const metrics = evaluateBlip(model, tokenizer, heldOut, { seed, matchingN: options.matchingN ?? 128 });
    const files = result.stopped ? [] : writeWeights(out, 'blip', params, { half: options.half });
    const stepLog = readStepLog(logFile, result.endStep);
    const json: BlipAssetJson = {
      format: 'treereward-world-blip/1', config: model.backbone.config, configName, embedDim: model.embedDim,
      tokenizer: { kind: 'word', vocab: tokenizer.vocab.slice(4), maxLength: tokenizer.maxLength }, files,
      command: options.command ?? '', seed, steps: result.endStep, batch, scenes: options.scenes ?? null, lr, parameters: [...params.values()].reduce((s, p) => s + p.numel, 0),
      trainingSeconds: stepLog.stepSeconds, msPerStep: stepLog.msPerStep, wallSeconds: (Date.now() - t0) / 1000,
      codeVersion: version, losses: stepLog.losses, metrics,
    };
    if (!result.stopped) writeJsonAtomic(path.join(out, 'blip.json'), json);
    return { ...json, out, startStep: result.startStep, stopped: result.stopped };
  } finally {
    model.dispose();
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
