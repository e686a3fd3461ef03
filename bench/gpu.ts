// gpu.ts: `npm run bench:gpu`: the GPU at Stable Diffusion 1.5's real sizes (512-pixel images, latents
// 64x64, batch 1 and 4), ours next to PyTorch's in the same run on identical inputs, outputs checked to
// agree, repetitions interleaved, medians with their range, and the ratio torch / ours (above 1: ours
// faster) against the targets of the CUDA backend:
//   attention  the UNet's self and cross attentions (8 heads; head dims 40, 80, 160; 77 text tokens),
//              fused forward and forward+backward, float32 and bfloat16, vs F.scaled_dot_product_attention
//              (bench/torch_gpu_peer.py); target: forward+backward at least 0.8x PyTorch's speed
//   conv2d     the UNet's convolutions (3x3 at each level, the strided downsamplers, a 1x1 shortcut),
//              vs F.conv2d (cuDNN), same peer
//   unet       UNet2DConditionModel forward and forward+backward of sum(output) at sd15, float32, vs
//              ../shared/peers/torch_models.py --config sd15 --device cuda on the weights and inputs it
//              exports (one peer process per repetition, each after its own two warm-ups); target 0.7x
// TF32 is off on both sides: float32 is float32 arithmetic. Our GPU times end when a one-element copy of
// the result reaches the host (the stream is asynchronous); PyTorch's when torch.cuda.synchronize() returns.
//   npx tsx bench/gpu.ts [--reps 3] [--only attention,conv2d,unet] [--dtype f32,bf16] [--batch 1,4] [--json] [--json-out FILE]
// Without a GPU (or without CUDA in this build) it says so and exits with status 1, timing nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { Tensor } from '../src/index.js';
import { GpuPeer, GPU_PYTHON } from './gpu_peer.js';
import { fmt, summarize, type Summary } from './stats.js';

type Lib = typeof import('../src/index.js');
let lib: Lib;

const here = path.dirname(fileURLToPath(import.meta.url));
const MODELS_PEER = path.resolve(here, '..', '..', 'shared', 'peers', 'torch_models.py');

type Case = Record<string, number | string>;
type OpName = 'attention' | 'conv2d';

/** SD1.5's attention at 64x64 latents: levels of 4096, 1024 and 256 tokens, 320/640/1280 channels in 8 heads. */
function attentionCases(B: number): Case[] {
  const out: Case[] = [];
  for (const [S, D] of [[4096, 40], [1024, 80], [256, 160]]) {
    out.push({ name: `self_${S}_d${D}_b${B}`, B, H: 8, Sq: S, Skv: S, D });
    out.push({ name: `cross_${S}x77_d${D}_b${B}`, B, H: 8, Sq: S, Skv: 77, D });
  }
  return out;
}

/** SD1.5's UNet convolutions at 64x64 latents. */
function convCases(N: number): Case[] {
  const c = (name: string, Cin: number, Cout: number, H: number, k: number, stride: number, pad: number): Case => ({ name: `${name}_b${N}`, N, Cin, Cout, H, W: H, k, stride, pad });
  return [
    c('conv_in_4x320_64', 4, 320, 64, 3, 1, 1),
    c('conv_320_64', 320, 320, 64, 3, 1, 1),
    c('down_320_64', 320, 320, 64, 3, 2, 1),
    c('conv_640_32', 640, 640, 32, 3, 1, 1),
    c('conv_1280_16', 1280, 1280, 16, 3, 1, 1),
    c('conv_2560x1280_8', 2560, 1280, 8, 3, 1, 1),
    c('shortcut_960x640_32', 960, 640, 32, 1, 1, 0),
  ];
}

function inputShapes(op: OpName, c: Case): number[][] {
  const n = (k: string) => c[k] as number;
  if (op === 'attention') return [[n('B'), n('H'), n('Sq'), n('D')], [n('B'), n('H'), n('Skv'), n('D')], [n('B'), n('H'), n('Skv'), n('D')]];
  return [[n('N'), n('Cin'), n('H'), n('W')], [n('Cout'), n('Cin'), n('k'), n('k')], [n('Cout')]];
}

/** Waits for the GPU: a one-element copy of t to the host returns once the stream has run everything before it. */
function waitFor(t: Tensor): void {
  const flat = t.flatten();
  const one = flat.slice(0, 0, 1);
  one.to('cpu').dispose();
  one.dispose();
  flat.dispose();
}

function timeMs(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function relErr(mine: ArrayLike<number>, theirs: ArrayLike<number>): number {
  let err = 0, ref = 1e-6;
  for (let i = 0; i < theirs.length; i++) {
    err = Math.max(err, Math.abs(mine[i] - theirs[i]));
    ref = Math.max(ref, Math.abs(theirs[i]));
  }
  return mine.length === theirs.length ? err / ref : Infinity;
}

interface Row {
  part: string;
  name: string;
  dtype: string;
  ours: { fwd: Summary; fwdbwd: Summary };
  torch?: { fwd: Summary; fwdbwd: Summary };
  /** torch / ours on medians: above 1 means ours is faster */
  ratio?: { fwd: number; fwdbwd: number };
  target?: { fwdbwd: number; met: boolean };
  agree?: { maxRelErr: number; ok: boolean };
  tflops?: { fwd: number; fwdbwd: number };
  error?: string;
}

const TARGETS: Record<string, number> = { attention: 0.8, unet: 0.7 };

function finish(row: Row): Row {
  if (row.torch) {
    row.ratio = { fwd: row.torch.fwd.median / row.ours.fwd.median, fwdbwd: row.torch.fwdbwd.median / row.ours.fwdbwd.median };
    const t = TARGETS[row.part];
    if (t !== undefined) row.target = { fwdbwd: t, met: row.ratio.fwdbwd >= t };
  }
  return row;
}

async function benchOp(op: OpName, c: Case, dtypeFlag: string, reps: number, peer: GpuPeer, tmp: string): Promise<Row> {
  const { F, noGrad, ones, Rng } = lib;
  const dtype = dtypeFlag === 'bf16' ? 'bfloat16' : 'float32';
  const row: Row = { part: op, name: c.name as string, dtype: dtypeFlag, ours: { fwd: summarize([0]), fwdbwd: summarize([0]) } };
  const rng = new Rng(1234);
  const raw = inputShapes(op, c).map((s) => rng.randn(s).mul(op === 'conv2d' ? 0.1 : 1));
  const specs = raw.map((t, i) => {
    const p = path.join(tmp, `${row.name}.${i}.f32`);
    writeFileSync(p, Buffer.from((t.toArray() as Float32Array).buffer));
    return { path: p, shape: t.shape };
  });
  const xs = raw.map((t) => t.to(dtype).to('cuda').detach().requiresGrad_());
  const fwd = op === 'attention'
    ? () => F.attention(xs[0], xs[1], xs[2])
    : () => F.conv2d(xs[0], xs[1], xs[2], { stride: c.stride as number, padding: c.pad as number });
  try {
    const outPath = path.join(tmp, `${row.name}.out.f32`);
    const r = await peer.call({ cmd: 'setup', op, case: c, inputs: specs, dtype: dtypeFlag, out: outPath });
    if (r.error) throw new Error(`torch: ${r.error}`);
    const o = noGrad(() => fwd());
    const mine = o.to('cpu').to('float32').toArray();
    o.dispose();
    const rel = relErr(mine, new Float32Array(readFileSync(outPath).buffer.slice(0)));
    row.agree = { maxRelErr: rel, ok: rel < (dtype === 'float32' ? 2e-3 : 3e-2) };
    const probe = noGrad(() => fwd());
    const g = ones(probe.shape, { dtype, device: 'cuda' });
    probe.dispose();
    const runFwd = () => noGrad(() => {
      const out = fwd();
      waitFor(out);
      out.dispose();
    });
    const runFb = () => {
      for (const x of xs) x.grad = null;
      const out = fwd();
      out.backward(g);
      waitFor(xs[0].grad!);
      out.dispose();
    };
    const peerMs = async (mode: string) => {
      const t = await peer.call({ cmd: 'time', mode });
      if (t.error) throw new Error(`torch: ${t.error}`);
      return t.ms as number;
    };
    for (let w = 0; w < 2; w++) {
      runFwd();
      runFb();
      await peerMs('fwd');
      await peerMs('fwdbwd');
    }
    const of: number[] = [], ob: number[] = [], tf: number[] = [], tb: number[] = [];
    for (let i = 0; i < reps; i++) {
      of.push(timeMs(runFwd));
      tf.push(await peerMs('fwd'));
      ob.push(timeMs(runFb));
      tb.push(await peerMs('fwdbwd'));
    }
    g.dispose();
    row.ours = { fwd: summarize(of), fwdbwd: summarize(ob) };
    row.torch = { fwd: summarize(tf), fwdbwd: summarize(tb) };
    const n = (k: string) => c[k] as number;
    const fl = op === 'attention'
      ? 4 * n('B') * n('H') * n('Sq') * n('Skv') * n('D')
      : 2 * n('N') * n('Cout') * n('Cin') * n('k') * n('k') * Math.floor((n('H') + 2 * n('pad') - n('k')) / n('stride') + 1) ** 2;
    // forward+backward: attention's backward recomputes the scores (3.5x the forward's products), conv's is two more products (3x)
    row.tflops = { fwd: fl / (row.ours.fwd.median * 1e9), fwdbwd: (op === 'attention' ? 3.5 : 3) * fl / (row.ours.fwdbwd.median * 1e9) };
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0];
  } finally {
    for (const t of [...raw, ...xs]) t.dispose();
  }
  return finish(row);
}

/** Moves a native model's parameters to the GPU, where the model API has a device move; false where not. */
function toCuda(model: object): boolean {
  const mover = (model as { to?: (device: 'cuda') => unknown }).to;
  if (typeof mover !== 'function') return false;
  mover.call(model, 'cuda');
  return true;
}

function unetPeer(batch: number, threads: number): { fwd_ms: number; fwdbwd_ms: number } {
  const out = execFileSync(GPU_PYTHON, [MODELS_PEER, '--config', 'sd15', '--what', 'unet', '--device', 'cuda', '--batch', String(batch), '--reps', '1', '--threads', String(threads)], {
    env: { ...process.env, NVIDIA_TF32_OVERRIDE: '0' },
    maxBuffer: 1 << 24,
  }).toString();
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function benchUnet(batch: number, reps: number, tmp: string): Promise<Row> {
  const { UNet, readSafetensors, noGrad } = lib;
  const row: Row = { part: 'unet', name: `unet_sd15_b${batch}`, dtype: 'f32', ours: { fwd: summarize([0]), fwdbwd: summarize([0]) } };
  const wPath = path.join(tmp, 'unet_sd15.w.safetensors'), ioPath = path.join(tmp, `unet_sd15_b${batch}.io.safetensors`);
  const env = { ...process.env, NVIDIA_TF32_OVERRIDE: '0' };
  let unet: InstanceType<typeof UNet> | null = null;
  const held: Tensor[] = [];
  try {
    if (!existsSync(wPath)) execFileSync(GPU_PYTHON, [MODELS_PEER, '--config', 'sd15', '--what', 'unet', '--export-safetensors', wPath], { env, stdio: 'pipe' });
    execFileSync(GPU_PYTHON, [MODELS_PEER, '--config', 'sd15', '--what', 'unet', '--device', 'cuda', '--batch', String(batch), '--export-io', ioPath], { env, stdio: 'pipe' });
    unet = UNet.fromConfig('sd15');
    const { tensors: w } = readSafetensors(wPath);
    unet.loadStateDict(w);
    for (const t of w.values()) t.dispose();
    if (!toCuda(unet)) throw new Error('our UNet has no device move yet (NativeModel.to(\'cuda\')): the UNet row waits for it');
    const { tensors: io } = readSafetensors(ioPath);
    const sample = io.get('input.sample')!.to('cuda'), ctx = io.get('input.encoder_hidden_states')!.to('cuda');
    const t = io.get('input.timestep')!.to('float32').to('cuda');
    held.push(sample, ctx, t);
    const model = unet;
    const mine = noGrad(() => model.forward(sample, t, ctx));
    const rel = relErr(mine.to('cpu').toArray(), io.get('output.sample')!.toArray());
    mine.dispose();
    row.agree = { maxRelErr: rel, ok: rel < 1e-2 };
    for (const x of io.values()) x.dispose();
    const params = [...model.parameters().values()];
    const runFwd = () => noGrad(() => {
      const out = model.forward(sample, t, ctx);
      waitFor(out);
      out.dispose();
    });
    const runFb = () => {
      for (const p of params) p.grad = null;
      const out = model.forward(sample, t, ctx);
      const loss = out.sum();
      loss.backward();
      waitFor(params[0].grad ?? loss);
      loss.dispose();
      out.dispose();
    };
    for (let w2 = 0; w2 < 2; w2++) {
      runFwd();
      runFb();
    }
    const of: number[] = [], ob: number[] = [], tf: number[] = [], tb: number[] = [];
    const threads = Math.min(os.cpus().length, 16);
    for (let i = 0; i < reps; i++) {
      of.push(timeMs(runFwd));
      ob.push(timeMs(runFb));
      const p = unetPeer(batch, threads);
      tf.push(p.fwd_ms);
      tb.push(p.fwdbwd_ms);
    }
    for (const p of params) p.grad = null;
    row.ours = { fwd: summarize(of), fwdbwd: summarize(ob) };
    row.torch = { fwd: summarize(tf), fwdbwd: summarize(tb) };
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0];
  } finally {
    for (const x of held) x.dispose();
    unet?.dispose();
  }
  return finish(row);
}

let header = false;
function printRow(r: Row): void {
  if (!header) {
    console.log('ms per call, median [min-max]; ratio = torch / ours (above 1: ours faster); target: the fwd+bwd ratio asked for');
    console.log(['case', 'ours fwd', 'torch fwd', 'ratio', 'ours fwd+bwd', 'torch fwd+bwd', 'ratio', 'target', 'agree', 'TFLOP/s ours fwd / fwd+bwd'].join(' | '));
    header = true;
  }
  if (r.error) {
    console.log(`${r.part} ${r.name} (${r.dtype}) | ${r.error}`);
    return;
  }
  console.log([
    `${r.part} ${r.name} (${r.dtype})`, fmt(r.ours.fwd), r.torch ? fmt(r.torch.fwd) : '-', r.ratio ? r.ratio.fwd.toFixed(2) : '-',
    fmt(r.ours.fwdbwd), r.torch ? fmt(r.torch.fwdbwd) : '-', r.ratio ? r.ratio.fwdbwd.toFixed(2) : '-',
    r.target ? `${r.target.met ? 'met' : 'MISSED'} (>= ${r.target.fwdbwd})` : '-',
    r.agree ? `${r.agree.ok ? 'yes' : 'NO'} (${r.agree.maxRelErr.toExponential(1)})` : '-',
    r.tflops ? `${r.tflops.fwd.toFixed(1)} / ${r.tflops.fwdbwd.toFixed(1)}` : '-',
  ].join(' | '));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' }, only: { type: 'string', default: 'attention,conv2d,unet' }, dtype: { type: 'string', default: 'f32,bf16' },
      batch: { type: 'string', default: '1,4' }, json: { type: 'boolean', default: false }, 'json-out': { type: 'string' },
    },
  });
  const reps = Number(values.reps);
  if (!(reps >= 3)) throw new Error(`Expected --reps of at least 3 but received ${values.reps}`);
  const only = values.only!.split(','), dtypes = values.dtype!.split(','), batches = values.batch!.split(',').map(Number);
  for (const d of dtypes) if (d !== 'f32' && d !== 'bf16') throw new Error(`Expected --dtype among f32,bf16 but received ${d}`);
  lib = await import('../src/index.js');
  const info = lib.buildInfo();
  if (!lib.hasCuda()) {
    console.error(`bench:gpu needs a visible CUDA GPU, and this ${info.cudaCompiled ? 'build has CUDA but the machine shows no usable GPU' : 'build has no CUDA (nvcc was not found when it was built)'}: nothing was timed.`);
    process.exitCode = 1;
    return;
  }
  if (!GpuPeer.available()) {
    console.error(`bench:gpu needs PyTorch with CUDA as its peer (${GPU_PYTHON} -c "import torch; torch.cuda.is_available()" failed; TREEREWARD_GPU_PEER_PYTHON picks another python): nothing was timed.`);
    process.exitCode = 1;
    return;
  }
  const peer = new GpuPeer();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'treereward-gpu-bench-'));
  const rows: Row[] = [];
  const add = (r: Row) => {
    rows.push(r);
    if (!values.json) printRow(r);
  };
  let device: Record<string, unknown> = {};
  try {
    device = await peer.call({ cmd: 'info' });
    if (!values.json) console.log(`GPU: ${info.cudaDevice}; torch ${device.torch} (cuDNN ${device.cudnn}, flash SDPA ${device.flash}); reps ${reps}`);
    for (const op of ['attention', 'conv2d'] as OpName[]) {
      if (!only.includes(op)) continue;
      for (const dt of dtypes)
        for (const b of batches)
          for (const c of op === 'attention' ? attentionCases(b) : convCases(b)) add(await benchOp(op, c, dt, reps, peer, tmp));
    }
  } finally {
    peer.close();
  }
  try {
    if (only.includes('unet')) for (const b of batches) add(await benchUnet(b, reps, tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const doc = { device: info.cudaDevice, torch: device, reps, rows };
  if (values['json-out']) writeFileSync(values['json-out'], JSON.stringify(doc, null, 1));
  if (values.json) console.log(JSON.stringify(doc, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
