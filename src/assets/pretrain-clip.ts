// pretrain-clip.ts: the world's CLIP, for CLIP score, and its aesthetic head, for aesthetic score.
// 1. contrastive pretraining of both towers on rendered scenes and their captions (CLIP's symmetric
//    InfoNCE, learnable logit scale), checkpointed and resumable;
// 2. the aesthetic head fitted on the frozen CLIP's image embeddings of varied renders, against the
//    judges' mean aesthetic score (aesthetic.ts); deterministic, so a resumed run redoes it exactly.
// Writes to `out`: checkpoint/, train-log.jsonl, clip.safetensors (+ clip.f16.safetensors), clip.json.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { F, noGrad, tidy, type Tensor } from '../api/index.js';
import type { ClipConfigInput } from '../models/clip-configs.js';
import { TreeRewardError } from '../native/errors.js';
import type { Tokenizer } from '../tokenizers/types.js';
import { aestheticSet, clipImageEmbeddings, fitAestheticHead, type AestheticFit } from './aesthetic.js';
import { codeVersion, writeJsonAtomic, writeWeights } from './asset-files.js';
import { encodeTexts, pixelsOf } from './blip-objectives.js';
import { retrievalAt1, symmetricContrastiveLoss, type Retrieval } from './contrastive.js';
import { runPretrainLoop, type StepInfo } from './pretrain-loop.js';
import { readStepLog } from './train-log.js';
import { heldOutSet, trainingBatch, type CaptionedRender } from './scene-data.js';
import { WorldClip } from './world-clip.js';
import { WORLD_CLIP_CONFIGS, type WorldClipConfigName } from './world-configs.js';
import { worldTokenizer } from './world-text.js';
import type { PretrainRunFacts } from './run-facts.js';

export interface PretrainClipOptions {
  out: string;
  /** Defaults to 'world'. */
  config?: WorldClipConfigName;
  steps: number;
  /** Defaults to 32. */
  batch?: number;
  /** Distinct training scenes, cycled through (a finite data set). Defaults to a new scene for every pair. */
  scenes?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Defaults to 3e-4. */
  lr?: number;
  /** Defaults to 200. */
  checkpointEvery?: number;
  /** Held-out scenes for retrieval, and held-out renders for the aesthetic head. Defaults to 256. */
  heldOut?: number;
  /** Renders the aesthetic head is fitted on. Defaults to 2048. */
  aestheticRenders?: number;
  /** Epochs of the aesthetic head's fit. Defaults to 40. */
  aestheticEpochs?: number;
  half?: boolean;
  command?: string;
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void;
  log?: (line: string) => void;
}

export interface ClipAssetJson extends PretrainRunFacts {
  format: 'treereward-world-clip/1';
  config: ClipConfigInput;
  configName: WorldClipConfigName;
  aesthetic: { dims: number[]; act: 'none'; target: string; renders: number };
  metrics: { retrieval: Retrieval; aesthetic?: { n: number; spearman: number; mse: number; targetStd: number; trainMse: number } };
}

export interface PretrainClipReport extends ClipAssetJson {
  out: string;
  startStep: number;
  stopped: boolean;
}

const AESTHETIC_TARGET = "mean of the color, lighting, layout and detail judges against the objects-only prompt (general quality), in [0, 1]";

/** CLIP's loss on a batch: symmetric cross-entropy of exp(logit_scale) * cos(image, text). */
export function clipLoss(model: WorldClip, tokenizer: Tokenizer, batch: readonly CaptionedRender[]): { loss: Tensor; parts: Record<string, Tensor> } {
  const t = encodeTexts(tokenizer, batch.map((b) => b.caption));
  const logits = model.imageEmbeds(pixelsOf(batch)).matmul(model.textEmbeds(t.ids, t.mask).transpose(0, 1)).mul(model.logitScale.exp());
  const loss = symmetricContrastiveLoss(logits);
  return { loss, parts: { contrastive: loss } };
}

/** Held-out R@1 of the CLIP embeddings. */
export function clipRetrieval(model: WorldClip, tokenizer: Tokenizer, set: readonly CaptionedRender[], chunk = 32): Retrieval {
  const sim = noGrad(() => tidy(() => {
    const img: Tensor[] = [], txt: Tensor[] = [];
    for (let k = 0; k < set.length; k += chunk) {
      const part = set.slice(k, k + chunk);
      img.push(model.imageEmbeds(pixelsOf(part)));
      const t = encodeTexts(tokenizer, part.map((p) => p.caption));
      txt.push(model.textEmbeds(t.ids, t.mask));
    }
    return F.concat(img, 0).matmul(F.concat(txt, 0).transpose(0, 1)).toArray();
  }));
  return retrievalAt1(sim, set.length);
}

export async function pretrainClip(options: PretrainClipOptions): Promise<PretrainClipReport> {
  const configName = options.config ?? 'world';
  const config = WORLD_CLIP_CONFIGS[configName];
  if (!config) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a config (${Object.keys(WORLD_CLIP_CONFIGS).join(', ')}) but received ${JSON.stringify(configName)}`);
  const { out, steps } = options;
  const batch = options.batch ?? 32, seed = options.seed ?? 0, lr = options.lr ?? 3e-4, nHeld = options.heldOut ?? 256;
  const log = options.log ?? (() => {});
  const tokenizer = worldTokenizer();
  if (tokenizer.vocabSize > config.text_config.vocab_size) throw new TreeRewardError('INVALID_ARGUMENT', `Expected a config with at least ${tokenizer.vocabSize} token embeddings (the world's vocabulary) but ${configName} has ${config.text_config.vocab_size}`);
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const version = codeVersion(); // the code this run starts with
  const model = new WorldClip(config, seed);
  try {
    const size = config.vision_config.image_size;
    const heldOut = heldOutSet(seed, nHeld, size);
    const params = model.clipParameters();
    for (const p of model.aestheticParameters().values()) p.requiresGrad = false;
    const noDecay = [...params].filter(([n, p]) => p.rank <= 1 || n === 'logit_scale').map(([, p]) => p);
    const decay = [...params.values()].filter((p) => !noDecay.includes(p));
    const logFile = path.join(out, 'train-log.jsonl');
    // 1. the contrastive pretraining
    const result = await runPretrainLoop(params, [{ params: decay, weightDecay: 0.1 }, { params: noDecay, weightDecay: 0 }],
      (step) => clipLoss(model, tokenizer, trainingBatch(seed, step, batch, size, { scenes: options.scenes })),
      {
        steps, lr, checkpointDir: path.join(out, 'checkpoint'), checkpointEvery: options.checkpointEvery ?? 200, signal: options.signal,
        afterStep: () => model.clampLogitScale(),
        onStep: (info) => {
          appendFileSync(logFile, JSON.stringify({ ...info, logitScale: model.logitScale.item() }) + '\n');
          options.onStep?.(info);
        },
        onCheckpoint: (step) => {
          if (step === steps) return;
          const r = clipRetrieval(model, tokenizer, heldOut);
          appendFileSync(logFile, JSON.stringify({ step, heldOut: r }) + '\n');
          log(`step ${step}: held-out R@1 image->text ${(100 * r.imageToText).toFixed(1)}%, text->image ${(100 * r.textToImage).toFixed(1)}%`);
        },
      });
    for (const p of params.values()) p.requiresGrad = false;
    const retrieval = clipRetrieval(model, tokenizer, heldOut);
    let aesthetic: AestheticFit | undefined;
    if (!result.stopped) {
      // 2. the aesthetic head on the frozen embeddings
      const nTrain = options.aestheticRenders ?? 2048;
      log(`judging ${nTrain} + ${nHeld} renders for the aesthetic head`);
      const train = aestheticSet(seed, 'aesthetic', nTrain, size);
      const test = aestheticSet(seed, 'aesthetic-held-out', nHeld, size);
      const embeds = clipImageEmbeddings(model, train.map((e) => e.image)), testEmbeds = clipImageEmbeddings(model, test.map((e) => e.image));
      try {
        aesthetic = fitAestheticHead(model, { embeds, scores: train.map((e) => e.score) }, { embeds: testEmbeds, scores: test.map((e) => e.score) }, { seed, epochs: options.aestheticEpochs });
      } finally {
        embeds.dispose();
        testEmbeds.dispose();
      }
    }
    const all = model.parameters();
    const files = result.stopped ? [] : writeWeights(out, 'clip', all, { half: options.half });
    const stepLog = readStepLog(logFile, result.endStep);
    const json: ClipAssetJson = {
      format: 'treereward-world-clip/1', config, configName,
      aesthetic: { dims: model.aestheticDims, act: 'none', target: AESTHETIC_TARGET, renders: options.aestheticRenders ?? 2048 },
      tokenizer: { kind: 'word', vocab: tokenizer.vocab.slice(4), maxLength: tokenizer.maxLength }, files,
      command: options.command ?? '', seed, steps: result.endStep, batch, scenes: options.scenes ?? null, lr, parameters: [...all.values()].reduce((s, p) => s + p.numel, 0),
      trainingSeconds: stepLog.stepSeconds, msPerStep: stepLog.msPerStep, wallSeconds: (Date.now() - t0) / 1000, codeVersion: version,
      losses: stepLog.losses,
      metrics: { retrieval, aesthetic: aesthetic && { ...aesthetic.heldOut, trainMse: aesthetic.trainMse } },
    };
    if (!result.stopped) writeJsonAtomic(path.join(out, 'clip.json'), json);
    return { ...json, out, startStep: result.startStep, stopped: result.stopped };
  } finally {
    model.dispose();
  }
}
