// refl.ts: one ReFL step at the `bench` configuration, ours next to ../shared/peers/torch_models.py
// --what refl (the same step in PyTorch) in one run. The step is the peer's, built from src/refl:
// 7 DDIM steps without gradient (of 10), one UNet step with gradient, x0, VAE decode, BLIP + tree
// heads -> R, the diffusion loss on given latents, L = L_pretrain + 0.05 (-R), backward, AdamW.
// The peer's seeded weights and inputs are exported once and loaded here; x_stop, x0, R and the
// losses are checked to agree. Then rounds alternate: our step without and with gradient
// checkpointing (each in its own process, 2 warm-ups + 1 timed step, so each peak RSS is its own)
// and one peer process (--reps 1). Prints medians [min-max] over the rounds, the ratio torch / ours
// (above 1: ours faster), our peak native tensor bytes, and each process's peak RSS.
//   npx tsx bench/refl.ts [--rounds 3] [--threads 2] [--autocast] [--json]
// --autocast adds our step under autocast('bfloat16') (bf16-mixed) to each round, against the same float32 peer.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  AdamW, autocast, AutoencoderKL, BlipBackbone, F, memoryStats, numThreads, readSafetensors, resetPeakMemory, Rng, setNumThreads, tensor, tidy, TreeHeads, UNet,
  resolveTree, type Tensor,
} from '../src/index.js';
import { KlCodec } from '../src/diffusion/pipeline/components.js';
import { createScheduler } from '../src/diffusion/schedulers/index.js';
import { differentiableScheduler } from '../src/refl/differentiable-scheduler.js';
import { rewardLoss } from '../src/refl/reward-objective.js';
import { sampleWithGradient } from '../src/refl/reward-sample.js';
import { normalise, resizeTo } from '../src/reward/preprocess.js';
import { PYTHON, TorchPeer } from './peer.js';
import { fmt, summarize } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.resolve(here, '..', '..', 'shared', 'peers', 'torch_models.py');
const LAMBDA = 0.05, STEPS = 10, STOP = 7;

/** The peer's ReFL step on our engine, over its exported weights and inputs. */
function build(w: Map<string, Tensor>, io: Map<string, Tensor>, checkpointing: boolean) {
  const inp = (k: string) => io.get(`input.${k}`)!;
  const sub = (prefix: string) => new Map([...w].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const unet = UNet.fromConfig('bench');
  unet.loadStateDict(sub('unet.'));
  const vae = AutoencoderKL.fromConfig('bench');
  vae.loadStateDict(sub('vae.'));
  const blip = new BlipBackbone('bench');
  const report = blip.loadStateDict(sub('reward.'), { prefix: 'blip.', strict: false });
  if (report.missing.length || report.mismatched.length) throw new Error(`Expected the peer's BLIP weights but found missing ${report.missing.slice(0, 3).join(', ')}`);
  const heads = new TreeHeads(resolveTree({ branches: { semantic: ['content', 'style'], aesthetic: ['color', 'lighting', 'layout', 'detail'] }, nodeHidden: 128, leafHidden: [128, 64, 16], act: 'gelu' }), blip.width);
  for (const [n, m] of heads.nodes) m.loadStateDict(sub(`reward.tree.nodes.${n}.`));
  for (const [n, m] of heads.leaves) m.loadStateDict(sub(`reward.tree.leaves.${n}.`));
  for (const p of [...vae.parameters().values(), ...blip.parameters().values(), ...heads.parameters().values()]) p.requiresGrad = false;
  const ids = inp('input_ids'), mask = inp('attention_mask');
  const size = blip.config.image_size;
  const scheduler = differentiableScheduler(createScheduler({ kind: 'ddim' })); // SD1.5's: 10 steps 901, 801, ..., 1
  const opt = new AdamW([...unet.parameters().values()], { lr: 1e-5, weightDecay: 0.01 });
  const tp = Array.from(inp('pretrain_timestep').toArray());
  const B = tp.length;
  const codec = new KlCodec(vae);
  /** One step; returns what the peer exports. */
  const step = () => {
    opt.zeroGrad();
    const out = tidy(() => {
      // 1-3. x_stop without gradient, one UNet step with gradient, x0, decode to [0, 1]
      const sample = sampleWithGradient({
        unet, vae: codec, scheduler, steps: STEPS, method: { kind: 'refl', stopRange: [STOP, STOP] }, latentShape: [4, 16, 16],
        guidanceScale: 1, guidanceWithGradient: false, checkpointing,
      }, inp('encoder_hidden_states'), null, new Rng(0), { noise: inp('noise') });
      // 4. R (eq. 7-8), L_reward = -R (eq. 9)
      const R = heads.forward(blip.forward(normalise(resizeTo(sample.image, size)), ids, mask, { checkpointing })).reward;
      const lossReward = rewardLoss(R, 'negative', 2);
      lossReward.mul(LAMBDA).backward();
      sample.release();
      // 5. L_pretrain on the given latents (eq. 10)
      const noise = inp('pretrain_noise');
      const xt = scheduler.addNoise(inp('latents'), noise, tp);
      const pred = unet.forward(xt, tensor(new Float32Array(tp), [B]), inp('pretrain_encoder_hidden_states'), { checkpointing });
      const lossPretrain = F.mseLoss(pred, noise);
      lossPretrain.backward();
      // 6. L = L_pretrain + lambda L_reward (eq. 11)
      return { reward: Array.from(R.toArray()), lossPretrain: lossPretrain.item(), loss: lossPretrain.item() + LAMBDA * lossReward.item() };
    });
    opt.step();
    return out;
  };
  return { step, unet };
}

/** The peer's forward outputs for our step (before its update), to check they agree. */
function agreement(w: Map<string, Tensor>, io: Map<string, Tensor>): { maxRelErr: number; ours: Record<string, number[]>; theirs: Record<string, number[]> } {
  const { step } = build(w, io, false);
  const r = step();
  const ours = { reward: r.reward, loss_pretrain: [r.lossPretrain], loss: [r.loss] };
  const theirs = { reward: Array.from(io.get('output.reward')!.toArray()), loss_pretrain: Array.from(io.get('output.loss_pretrain')!.toArray()), loss: Array.from(io.get('output.loss')!.toArray()) };
  let maxRelErr = 0;
  for (const k of Object.keys(ours) as (keyof typeof ours)[]) {
    ours[k].forEach((v, i) => (maxRelErr = Math.max(maxRelErr, Math.abs(v - theirs[k][i]) / Math.max(1e-3, Math.abs(theirs[k][i])))));
  }
  return { maxRelErr, ours, theirs };
}

/** Child process: 2 warm-ups and one timed step; prints its time and memory. */
function child(wPath: string, ioPath: string, checkpointing: boolean, mixed: boolean): void {
  const { tensors: w } = readSafetensors(wPath);
  const { tensors: io } = readSafetensors(ioPath);
  const built = build(w, io, checkpointing);
  const step = mixed ? () => autocast('bfloat16', built.step) : built.step;
  for (const t of w.values()) t.dispose(); // copied into the models: the file's copy would count twice
  for (let k = 0; k < 2; k++) step();
  resetPeakMemory();
  const base = memoryStats().liveBytes;
  const t = performance.now();
  step();
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, peakNativeMb: (memoryStats().peakBytes - base) / 2 ** 20, liveMb: base / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

function ours(wPath: string, ioPath: string, mode: 'plain' | 'ckpt' | 'mixed' | 'mixed-ckpt', threads: number) {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode, '--w', wPath, '--io', ioPath, '--threads', String(threads)]).toString();
  return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; peakNativeMb: number; liveMb: number; peakRssMb: number };
}

function peer(threads: number): { ms: number; peakRssMb: number } {
  const out = execFileSync(PYTHON, [PEER, '--config', 'bench', '--what', 'refl', '--reps', '1', '--threads', String(threads)], {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_THREAD_TIMEOUT: '4' },
  }).toString();
  const r = JSON.parse(out.trim().split('\n').pop()!);
  return { ms: r.fwdbwd_ms, peakRssMb: r.peak_rss_mb };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, json: { type: 'boolean', default: false },
    child: { type: 'string' }, w: { type: 'string' }, io: { type: 'string' }, autocast: { type: 'boolean', default: false },
  } });
  setNumThreads(Number(values.threads));
  if (values.child) return child(values.w!, values.io!, values.child.endsWith('ckpt'), values.child.startsWith('mixed'));
  const rounds = Number(values.rounds);
  if (!(rounds >= 3)) throw new Error(`Expected --rounds of at least 3 but received ${values.rounds}`);
  if (!TorchPeer.available()) throw new Error('the PyTorch peer needs /usr/bin/python3 with torch');
  const threads = numThreads();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'treereward-refl-'));
  try {
    const wPath = path.join(tmp, 'refl.w.safetensors'), ioPath = path.join(tmp, 'refl.io.safetensors');
    execFileSync(PYTHON, [PEER, '--config', 'bench', '--what', 'refl', '--export-safetensors', wPath, '--export-io', ioPath], { stdio: 'pipe' });
    const { tensors: w } = readSafetensors(wPath);
    const { tensors: io } = readSafetensors(ioPath);
    const agree = agreement(w, io);
    const runs = { plain: [] as ReturnType<typeof ours>[], ckpt: [] as ReturnType<typeof ours>[], mixed: [] as ReturnType<typeof ours>[], mixedCkpt: [] as ReturnType<typeof ours>[], torch: [] as ReturnType<typeof peer>[] };
    for (let r = 0; r < rounds; r++) {
      runs.plain.push(ours(wPath, ioPath, 'plain', threads));
      runs.ckpt.push(ours(wPath, ioPath, 'ckpt', threads));
      if (values.autocast) runs.mixed.push(ours(wPath, ioPath, 'mixed', threads)), runs.mixedCkpt.push(ours(wPath, ioPath, 'mixed-ckpt', threads));
      runs.torch.push(peer(threads));
      if (!values.json) console.error(`round ${r + 1}: ours ${runs.plain[r].ms.toFixed(0)} ms, ours (checkpointing) ${runs.ckpt[r].ms.toFixed(0)} ms${values.autocast ? `, ours (bf16-mixed) ${runs.mixed[r].ms.toFixed(0)} ms` : ''}, torch ${runs.torch[r].ms.toFixed(0)} ms`);
    }
    const ms = (xs: { ms: number }[]) => summarize(xs.map((x) => x.ms));
    const ratios = (mine: { ms: number }[]) => summarize(mine.map((m, i) => runs.torch[i].ms / m.ms));
    const report = {
      config: 'bench', batch: 4, steps: STEPS, stop: STOP, threads, rounds, load: os.loadavg(),
      agree: { maxRelErr: agree.maxRelErr, ok: agree.maxRelErr < 1e-2, ours: agree.ours, torch: agree.theirs },
      ours: { ms: ms(runs.plain), peakNativeMb: summarize(runs.plain.map((x) => x.peakNativeMb)), peakRssMb: summarize(runs.plain.map((x) => x.peakRssMb)), liveMb: runs.plain[0].liveMb },
      oursCheckpointing: { ms: ms(runs.ckpt), peakNativeMb: summarize(runs.ckpt.map((x) => x.peakNativeMb)), peakRssMb: summarize(runs.ckpt.map((x) => x.peakRssMb)) },
      torch: { ms: ms(runs.torch), peakRssMb: summarize(runs.torch.map((x) => x.peakRssMb)) },
      ratio: { plain: ratios(runs.plain), checkpointing: ratios(runs.ckpt), ...(values.autocast ? { bf16Mixed: ratios(runs.mixed) } : {}) },
      ...(values.autocast ? {
        oursBf16Mixed: { ms: ms(runs.mixed), peakNativeMb: summarize(runs.mixed.map((x) => x.peakNativeMb)), peakRssMb: summarize(runs.mixed.map((x) => x.peakRssMb)) },
        oursBf16MixedCheckpointing: { ms: ms(runs.mixedCkpt), peakNativeMb: summarize(runs.mixedCkpt.map((x) => x.peakNativeMb)), peakRssMb: summarize(runs.mixedCkpt.map((x) => x.peakRssMb)) },
      } : {}),
    };
    if (values.json) {
      console.log(JSON.stringify(report, null, 1));
      return;
    }
    console.log(`ReFL step at bench (batch 4, ${STEPS} DDIM steps, gradient at step ${STOP}), ${threads} threads, load ${report.load.map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`agree with the peer: ${report.agree.ok ? 'yes' : 'NO'} (max rel err ${agree.maxRelErr.toExponential(1)} over R, L_pretrain, L)`);
    console.log(`ms per step, median [min-max] over ${rounds} rounds; ratio = torch / ours (above 1: ours faster)`);
    console.log(`ours                  ${fmt(report.ours.ms, 0)}  ratio ${fmt(report.ratio.plain)}  peak native ${fmt(report.ours.peakNativeMb, 0)} MB above ${report.ours.liveMb.toFixed(0)} MB live (weights, AdamW state, inputs)  peak RSS ${fmt(report.ours.peakRssMb, 0)} MB`);
    console.log(`ours, checkpointing   ${fmt(report.oursCheckpointing.ms, 0)}  ratio ${fmt(report.ratio.checkpointing)}  peak native ${fmt(report.oursCheckpointing.peakNativeMb, 0)} MB  peak RSS ${fmt(report.oursCheckpointing.peakRssMb, 0)} MB`);
    if (report.oursBf16Mixed) {
      console.log(`ours, bf16-mixed      ${fmt(report.oursBf16Mixed.ms, 0)}  ratio ${fmt(report.ratio.bf16Mixed!)}  peak native ${fmt(report.oursBf16Mixed.peakNativeMb, 0)} MB  peak RSS ${fmt(report.oursBf16Mixed.peakRssMb, 0)} MB  (against PyTorch's float32 step)`);
      const mc = report.oursBf16MixedCheckpointing!;
      console.log(`ours, bf16-mixed, checkpointing  ${fmt(mc.ms, 0)}  peak native ${fmt(mc.peakNativeMb, 0)} MB  peak RSS ${fmt(mc.peakRssMb, 0)} MB`);
    }
    console.log(`torch                 ${fmt(report.torch.ms, 0)}  peak RSS ${fmt(report.torch.peakRssMb, 0)} MB`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
