// refl-memory.ts: the GPU memory of one ReFL step at Stable Diffusion 1.5's size, made of the product's own
// pieces on device "cuda" (refl-step.ts's eq. 9-11): the sd15 UNet (trained in full, AdamW), VAE and CLIP text model, a tree
// reward on ImageReward's BLIP (ViT-L/16 at 224, BERT-base), 512-pixel images (latents 64x64), 40 DDPM
// steps with the gradient step drawn from 30-39, L_pretrain on 512-pixel pairs; with and without gradient
// checkpointing, float32 and bf16-mixed, at each batch size. Each configuration runs in its own process;
// the figure is memoryStats('cuda').peakReservedBytes: the most the caching allocator held from the driver
// (weights, gradients, optimizer state, activations), less the CUDA context and cuBLAS/cuDNN workspaces.
//   npx tsx bench/refl-memory.ts [--batch 1,2,4] [--checkpointing on|off|both] [--precision float32,bf16-mixed] [--json]
// On a GPU it runs for real (and reports each step's seconds). Without one, on the CUDA simulator in dry-run
// mode (kernels checked, not run; memory counted, not touched), which is how it runs here:
//   TREEREWARD_ADDON=$PWD/build-sim/Release/treereward.node TRSIM_DRY_RUN=1 TRSIM_MEMORY_MB=81920 npx tsx bench/refl-memory.ts
// (81920 MiB: an 80 GB H100's memory; an allocation beyond it is the run's OUT_OF_MEMORY, reported as such).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  AdamW, BlipBackbone, buildInfo, CLIP_TEXT_PRESETS, clipGradNorm, DIFFUSION_PRESETS, hasCuda, inPrecision, memoryStats, noGrad, onDevice, resetPeakMemory, Rng,
  tidy, TreeReward, WordTokenizer, wordsOf,
} from '../src/index.js';
import { buildDiffusionModel } from '../src/diffusion/pipeline/model-dir.js';
import { imagesToPixels } from '../src/diffusion/pipeline/rgb-images.js';
import { createScheduler } from '../src/diffusion/schedulers/index.js';
import { diffusionLoss } from '../src/diffusion/train/diffusion-loss.js';
import { parseReflConfig } from '../src/refl/config.js';
import { differentiableScheduler } from '../src/refl/differentiable-scheduler.js';
import { freezeReward } from '../src/refl/load-reward.js';
import { rewardLoss, selectReward } from '../src/refl/reward-objective.js';
import { runPredictor, sampleWithGradient } from '../src/refl/reward-sample.js';
import { DEFAULT_TREE, resolveTree } from '../src/reward/tree-spec.js';

const PROMPTS = ['a red star at top', 'a blue ring at left', 'a green square at bottom', 'a yellow star at right'];
const WORDS = wordsOf(PROMPTS);

interface Row { batch: number; checkpointing: boolean; precision: 'float32' | 'bf16-mixed'; peakGiB: number | null; seconds: number | null; error?: string }

/**
 * One configuration, in this process: the models moved to cuda as runRefl moves them, then one ReFL step
 * made of refl-step.ts's pieces (eq. 9-11: the sample with gradient at the stop step, R, L_reward, L_pretrain,
 * clipping, AdamW), under onDevice('cuda'). The run's own loop is not used because in a dry run the values
 * read back are not the computation's, and its finite-value checks would stop it before AdamW's state exists.
 */
async function child(batch: number, checkpointing: boolean, precision: Row['precision']): Promise<Row> {
  if (!hasCuda()) throw new Error('Expected a cuda device (a GPU, or the CUDA simulator build) but found none');
  const sd = DIFFUSION_PRESETS.sd15;
  const model = buildDiffusionModel({
    name: 'sd15-memory',
    tokenizer: { kind: 'word', config: { words: WORDS, maxLength: 77 } },
    textEncoder: { kind: 'clip-text', config: { ...CLIP_TEXT_PRESETS.sd15 } },
    unet: { kind: 'unet2d-condition', config: { ...sd.unet, block_out_channels: [...sd.unet.block_out_channels], cross_attn: [...sd.unet.cross_attn] } },
    vae: { kind: 'autoencoder-kl', config: { ...sd.vae, block_out_channels: [...sd.vae.block_out_channels] } },
    scheduler: { kind: 'ddpm' },
    defaults: { size: 512, steps: 40, guidanceScale: 7.5 },
  }, 0);
  const reward = new TreeReward({ backbone: new BlipBackbone('sd15', 1), tree: resolveTree(DEFAULT_TREE), tokenizer: WordTokenizer.fromWords(WORDS), seed: 2, checkpointing });
  const image = { width: 512, height: 512, data: new Uint8Array(512 * 512 * 3).map((_, i) => (i * 37) & 255) };
  const c = parseReflConfig({ output: 'unused', steps: 1, batchSize: batch, device: 'cuda', train: { gradientCheckpointing: checkpointing, precision } });
  resetPeakMemory('cuda');
  try {
    const { models } = model;
    for (const part of [models.textEncoder, models.unet, models.vae, reward]) part.to!('cuda');
    for (const holder of [models.vae, models.textEncoder]) for (const p of holder.parameters().values()) p.requiresGrad = false;
    freezeReward(reward, checkpointing);
    const trainable = [...models.unet.parameters().values()];
    const t = performance.now();
    await onDevice('cuda', async () => {
      const optimizer = new AdamW(trainable, { lr: c.train.learningRate, weightDecay: c.train.weightDecay, betas: c.train.betas });
      const rng = new Rng(0);
      const sampling = {
        unet: models.unet, vae: models.vae, scheduler: differentiableScheduler(createScheduler({ kind: 'ddpm' })), steps: c.sampling.steps,
        method: c.sampling.method, latentShape: [4, 64, 64] as const, guidanceScale: c.sampling.guidanceScale,
        guidanceWithGradient: c.sampling.guidanceWithGradient, checkpointing,
      };
      const prompts = Array.from({ length: batch }, (_, i) => PROMPTS[i % PROMPTS.length]);
      const encode = (p: string[]) => noGrad(() => tidy(() => models.textEncoder.encode(models.tokenizer.tokenize(p))));
      inPrecision(precision, () => tidy(() => {
        // L_reward = -R on an image sampled with gradient through the stop step (eq. 9)
        const sample = sampleWithGradient(sampling, encode(prompts), null, rng);
        const R = selectReward(reward.score(prompts, sample.image), c.objective.select);
        rewardLoss(R, c.objective.rewardLoss, c.objective.reluMargin).mul(c.objective.lambda).backward();
        sample.release();
      }));
      // L_pretrain on 512-pixel pairs (eq. 10), in the same update (eq. 11)
      const pixels = imagesToPixels(prompts.map(() => image));
      inPrecision(precision, () => tidy(() => {
        const unet = runPredictor(models.unet, checkpointing);
        diffusionLoss({ ...models, unet }, createScheduler({ kind: 'ddpm' }), { pixels, prompts }, rng, { captionDropRate: 0, trainTextEncoder: false }).backward();
      }));
      pixels.dispose();
      clipGradNorm(trainable, c.train.maxGradNorm);
      optimizer.step();
      optimizer.zeroGrad();
      for (const s of Object.values(optimizer.state().tensors)) s.dispose();
    });
    const seconds = (performance.now() - t) / 1000;
    return { batch, checkpointing, precision, peakGiB: memoryStats('cuda').peakReservedBytes! / 2 ** 30, seconds };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { batch, checkpointing, precision, peakGiB: null, seconds: null, error: `${err.code ?? ''} ${err.message}`.trim().slice(0, 300) };
  } finally {
    model.dispose();
    reward.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    batch: { type: 'string', default: '1,2,4' }, json: { type: 'boolean', default: false }, child: { type: 'string' },
    checkpointing: { type: 'string', default: 'both' }, precision: { type: 'string', default: 'float32,bf16-mixed' },
  } });
  if (values.child) {
    const [b, ckpt, precision] = values.child.split(':');
    console.log(JSON.stringify(await child(Number(b), ckpt === '1', precision as Row['precision'])));
    return;
  }
  const simulated = buildInfo().cudaDevice.includes('simulator');
  const dry = process.env.TRSIM_DRY_RUN === '1';
  if (simulated && !dry) throw new Error('On the CUDA simulator this needs TRSIM_DRY_RUN=1 (running SD1.5 thread by thread would take days)');
  const ckpt = { on: [true], off: [false], both: [false, true] }[values.checkpointing as 'on' | 'off' | 'both'];
  if (!ckpt) throw new Error(`Expected on, off or both for --checkpointing but received ${values.checkpointing}`);
  const precisions = values.precision!.split(',') as Row['precision'][];
  for (const p of precisions) if (p !== 'float32' && p !== 'bf16-mixed') throw new Error(`Expected float32 or bf16-mixed in --precision but received ${p}`);
  const rows: Row[] = [];
  for (const batch of values.batch!.split(',').map(Number)) {
    for (const precision of precisions) {
      for (const checkpointing of ckpt) {
        const outText = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', `${batch}:${checkpointing ? 1 : 0}:${precision}`], {
          env: process.env, maxBuffer: 1 << 24,
        }).toString();
        const row = JSON.parse(outText.trim().split('\n').pop()!) as Row;
        rows.push(row);
        if (!values.json) {
          const peak = row.peakGiB === null ? `failed: ${row.error}` : `${row.peakGiB.toFixed(2)} GiB`;
          console.log(`batch ${batch}  ${precision.padEnd(10)}  checkpointing ${checkpointing ? 'on ' : 'off'}  peak reserved ${peak}${row.seconds !== null && !dry ? `  (${row.seconds.toFixed(1)} s)` : ''}`);
        }
      }
    }
  }
  const device = simulated ? `CUDA simulator, dry run (${process.env.TRSIM_MEMORY_MB ?? 4096} MiB of device memory)` : buildInfo().cudaDevice;
  if (values.json) console.log(JSON.stringify({ device, rows }, null, 2));
  else console.log(`device: ${device}`);
}

void main();
