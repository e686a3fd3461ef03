// ops.ts: `npm run bench:ops`: each op case of shared/peers/shapes.json, forward and forward+backward,
// ours and PyTorch's on identical inputs in the same run, repetitions interleaved. Prints medians
// with their range and the ratio torch/ours (above 1: we are faster), GFLOP/s (products) or GB/s
// (norms, bytes of the tensors read and written once), or one JSON document with --json.
//   npx tsx bench/ops.ts [--reps 5] [--only attn_] [--dtype f32|bf16] [--threads N] [--cpu] [--block-ms B] [--json] [--no-peer]
// --cpu also times each call in process CPU time (all threads of each process): on a machine shared
// with other work, where wall-clock times mostly measure the scheduler, it is the steadier figure.
// Threads that spin after their work steal the other side's cores: on both sides OpenBLAS and GNU
// OpenMP (oneDNN's, PyTorch's) spin the same fraction of a millisecond, then sleep
// (OPENBLAS_THREAD_TIMEOUT=18; GOMP_SPINCOUNT=10000, our library's default, see
// native/cpu/dnnl_runtime.cpp); both run --threads threads, OpenBLAS included (bench/peer.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { Tensor } from '../src/index.js';
import { TorchPeer } from './peer.js';
import { fmt, summarize, type Summary } from './stats.js';

// Set before the addon (and with it OpenBLAS) loads: the dynamic import in main() comes after.
process.env.OPENBLAS_THREAD_TIMEOUT ??= '18';
type Lib = typeof import('../src/index.js');
let lib: Lib;

const here = path.dirname(fileURLToPath(import.meta.url));
type Case = Record<string, number | string>;
type OpName = 'gemm' | 'attention' | 'conv2d' | 'group_norm' | 'layer_norm';

function inputShapes(op: OpName, c: Case): number[][] {
  const n = (k: string) => c[k] as number;
  switch (op) {
    case 'gemm': return [[n('M'), n('K')], [n('K'), n('N')]];
    case 'attention': return [[n('B'), n('H'), n('Sq'), n('D')], [n('B'), n('H'), n('Skv'), n('D')], [n('B'), n('H'), n('Skv'), n('D')]];
    case 'conv2d': return [[n('N'), n('Cin'), n('H'), n('W')], [n('Cout'), n('Cin'), n('k'), n('k')], [n('Cout')]];
    case 'group_norm': return [[n('N'), n('C'), n('H'), n('W')], [n('C')], [n('C')]];
    case 'layer_norm': return [[n('rows'), n('C')], [n('C')], [n('C')]];
  }
}

function ourForward(op: OpName, c: Case, xs: Tensor[]): () => Tensor {
  const { F } = lib;
  switch (op) {
    case 'gemm': return () => xs[0].matmul(xs[1]);
    case 'attention': return () => F.attention(xs[0], xs[1], xs[2]);
    case 'conv2d': return () => F.conv2d(xs[0], xs[1], xs[2], { stride: c.stride as number, padding: c.pad as number });
    case 'group_norm': return () => F.groupNorm(xs[0], c.G as number, xs[1], xs[2], 1e-5);
    case 'layer_norm': return () => F.layerNorm(xs[0], [c.C as number], xs[1], xs[2], 1e-5);
  }
}

/** Bytes a norm reads and writes once (x and y forward; x, dy and dx more backward), for GB/s. */
function normBytes(op: OpName, c: Case, elemBytes: number): { fwd: number; fwdbwd: number } | null {
  const n = (k: string) => c[k] as number;
  if (op === 'group_norm') return { fwd: 2 * n('N') * n('C') * n('H') * n('W') * elemBytes, fwdbwd: 5 * n('N') * n('C') * n('H') * n('W') * elemBytes };
  if (op === 'layer_norm') return { fwd: 2 * n('rows') * n('C') * elemBytes, fwdbwd: 5 * n('rows') * n('C') * elemBytes };
  return null;
}

/** Forward FLOPs; forward+backward counts 3x for products (two more of the same size) and 3.5x for
 * attention (the fused backward recomputes the scores: five products to the forward's two). */
function flops(op: OpName, c: Case): number | null {
  const n = (k: string) => c[k] as number;
  if (op === 'gemm') return 2 * n('M') * n('N') * n('K');
  if (op === 'attention') return 4 * n('B') * n('H') * n('Sq') * n('Skv') * n('D');
  if (op === 'conv2d') {
    const ho = Math.floor((n('H') + 2 * n('pad') - n('k')) / n('stride')) + 1, wo = Math.floor((n('W') + 2 * n('pad') - n('k')) / n('stride')) + 1;
    return 2 * n('N') * n('Cout') * ho * wo * n('Cin') * n('k') * n('k');
  }
  return null;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
function time(fn: () => void): { wall: number; cpu: number } {
  const c = cpuNow(), t = performance.now();
  fn();
  return { wall: performance.now() - t, cpu: cpuNow() - c };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CaseResult {
  op: OpName;
  name: string;
  dtype: string;
  ours: { fwd: Summary; fwdbwd: Summary };
  torch?: { fwd: Summary; fwdbwd: Summary; version: string };
  /** With --block-ms: calls per block (each repetition's figure is its block's median call). */
  block?: { fwd: number; fwdbwd: number };
  /** torch / ours on medians: above 1 means ours is faster. */
  ratio?: { fwd: number; fwdbwd: number };
  /** With --cpu: the same in process CPU time per call. */
  cpu?: { ours: { fwd: Summary; fwdbwd: Summary }; torch?: { fwd: Summary; fwdbwd: Summary }; ratio?: { fwd: number; fwdbwd: number } };
  agree?: { maxRelErr: number; ok: boolean };
  /** ours, on the median wall time */
  gflops?: { fwd: number; fwdbwd: number };
  gbps?: { fwd: number; fwdbwd: number };
  error?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '5' }, only: { type: 'string', default: '' }, dtype: { type: 'string', default: 'f32' },
      threads: { type: 'string' }, json: { type: 'boolean', default: false }, 'no-peer': { type: 'boolean', default: false },
      cpu: { type: 'boolean', default: false }, 'block-ms': { type: 'string', default: '0' },
      shapes: { type: 'string', default: path.resolve(here, '..', '..', 'shared', 'peers', 'shapes.json') },
    },
  });
  const reps = Number(values.reps);
  // --block-ms B: each repetition is a block of k calls back to back on each side (k from the warm-up so that
  // a block lasts about B ms, 1 to 50), and the block's median call is the repetition's figure, on both sides:
  // steady per-call times, as a training loop sees them, rather than one call after the other side's.
  const blockMs = Number(values['block-ms']);
  if (!(blockMs >= 0)) throw new Error(`Expected --block-ms of at least 0 but received ${values['block-ms']}`);
  if (!(reps >= 3)) throw new Error(`Expected --reps of at least 3 but received ${values.reps}`);
  const dtype = values.dtype === 'bf16' ? 'bfloat16' : 'float32';
  lib = await import('../src/index.js');
  const { noGrad, numThreads, ones, Rng, setNumThreads } = lib;
  if (values.threads) setNumThreads(Number(values.threads));
  const threads = numThreads();
  const shapes = JSON.parse(readFileSync(values.shapes!, 'utf8')) as Record<string, Case[]>;
  const peer = !values['no-peer'] && TorchPeer.available() ? new TorchPeer(threads) : null;
  if (!peer && !values.json) console.error('PyTorch peer not available (apt-get install python3-torch): timing ours only');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'treereward-bench-'));
  const results: CaseResult[] = [];
  try {
    for (const op of ['gemm', 'attention', 'conv2d', 'group_norm', 'layer_norm'] as OpName[]) {
      for (const c of shapes[op] ?? []) {
        const name = c.name as string;
        if (!name.startsWith(values.only!)) continue;
        const rng = new Rng(1234);
        const raw = inputShapes(op, c).map((s) => rng.randn(s));
        const specs = raw.map((t, i) => {
          const p = path.join(tmp, `${name}.${i}.f32`);
          writeFileSync(p, Buffer.from((t.toArray() as Float32Array).buffer));
          return { path: p, shape: t.shape };
        });
        const xs = raw.map((t) => t.to(dtype).detach().requiresGrad_());
        const fwd = ourForward(op, c, xs);
        const res: CaseResult = { op, name, dtype: values.dtype!, ours: { fwd: summarize([0]), fwdbwd: summarize([0]) } };
        let torchVersion = '';
        if (peer) {
          const outPath = path.join(tmp, `${name}.out.f32`);
          const r = await peer.call({ cmd: 'setup', op, case: c, inputs: specs, dtype: values.dtype, out: outPath });
          if (r.error) res.error = `torch: ${r.error}`;
          else {
            torchVersion = String(r.torch);
            const theirs = new Float32Array(readFileSync(outPath).buffer.slice(0));
            const o = noGrad(() => fwd());
            const mine = o.toArray();
            o.dispose();
            let maxErr = 0, maxRef = 1e-6;
            for (let i = 0; i < theirs.length; i++) {
              maxErr = Math.max(maxErr, Math.abs(mine[i] - theirs[i]));
              maxRef = Math.max(maxRef, Math.abs(theirs[i]));
            }
            const rel = maxErr / maxRef;
            res.agree = { maxRelErr: rel, ok: mine.length === theirs.length && rel < (dtype === 'float32' ? 2e-3 : 6e-2) };
          }
        }
        const ours = { fwd: [] as number[], fb: [] as number[], cfwd: [] as number[], cfb: [] as number[] };
        const th = { fwd: [] as number[], fb: [] as number[], cfwd: [] as number[], cfb: [] as number[] };
        const runFwd = () => noGrad(() => fwd().dispose());
        const runFb = () => {
          for (const x of xs) x.grad = null;
          const out = fwd();
          const g = ones(out.shape, { dtype: out.dtype });
          out.backward(g);
          out.dispose();
          g.dispose();
        };
        const withPeer = peer && !res.error;
        let block = { fwd: 1, fwdbwd: 1 };
        const peerTime = async (mode: 'fwd' | 'fwdbwd', into?: { wall: number[]; cpu: number[] }) => {
          const r = await peer!.call({ cmd: 'time', mode, n: into ? block[mode] : 1 });
          if (into) into.wall.push(r.ms as number), into.cpu.push(r.cpu_ms as number);
          await sleep(2);  // let the peer's threads settle before our next call
        };
        const warm = { fwd: 0, fwdbwd: 0 };
        for (let w = 0; w < 2; w++) {
          warm.fwd = time(runFwd).wall;
          warm.fwdbwd = time(runFb).wall;
          if (withPeer) {
            await peerTime('fwd');
            await peerTime('fwdbwd');
          }
        }
        if (blockMs > 0) {
          const k = (ms: number) => Math.max(1, Math.min(50, Math.round(blockMs / Math.max(ms, 1e-3))));
          block = { fwd: k(warm.fwd), fwdbwd: k(warm.fwdbwd) };
        }
        /** The median call of a block of n (one call when n is 1). */
        const timeBlock = (fn: () => void, n: number) => {
          const runs = Array.from({ length: n }, () => time(fn)).sort((a, b) => a.wall - b.wall);
          return runs[runs.length >> 1];
        };
        for (let r = 0; r < reps; r++) {
          let t = timeBlock(runFwd, block.fwd);
          ours.fwd.push(t.wall), ours.cfwd.push(t.cpu);
          if (withPeer) await peerTime('fwd', { wall: th.fwd, cpu: th.cfwd });
          t = timeBlock(runFb, block.fwdbwd);
          ours.fb.push(t.wall), ours.cfb.push(t.cpu);
          if (withPeer) await peerTime('fwdbwd', { wall: th.fb, cpu: th.cfb });
        }
        res.ours = { fwd: summarize(ours.fwd), fwdbwd: summarize(ours.fb) };
        if (blockMs > 0) res.block = block;
        if (withPeer) {
          res.torch = { fwd: summarize(th.fwd), fwdbwd: summarize(th.fb), version: torchVersion };
          res.ratio = { fwd: res.torch.fwd.median / res.ours.fwd.median, fwdbwd: res.torch.fwdbwd.median / res.ours.fwdbwd.median };
        }
        if (values.cpu) {
          res.cpu = { ours: { fwd: summarize(ours.cfwd), fwdbwd: summarize(ours.cfb) } };
          if (withPeer) {
            res.cpu.torch = { fwd: summarize(th.cfwd), fwdbwd: summarize(th.cfb) };
            res.cpu.ratio = { fwd: res.cpu.torch.fwd.median / res.cpu.ours.fwd.median, fwdbwd: res.cpu.torch.fwdbwd.median / res.cpu.ours.fwdbwd.median };
          }
        }
        const fl = flops(op, c);
        if (fl) res.gflops = { fwd: fl / (res.ours.fwd.median * 1e6), fwdbwd: (op === 'attention' ? 3.5 : 3) * fl / (res.ours.fwdbwd.median * 1e6) };
        const nb = normBytes(op, c, dtype === 'float32' ? 4 : 2);
        if (nb) res.gbps = { fwd: nb.fwd / (res.ours.fwd.median * 1e6), fwdbwd: nb.fwdbwd / (res.ours.fwdbwd.median * 1e6) };
        results.push(res);
        for (const t of [...raw, ...xs]) t.dispose();
        if (!values.json) printRow(res);
      }
    }
  } finally {
    peer?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (values.json) console.log(JSON.stringify({ threads, dtype: values.dtype, reps, results }, null, 1));
}

let header = false;
function printRow(r: CaseResult): void {
  const cpu = r.cpu !== undefined;
  if (!header) {
    console.log('ms per call, median [min-max]; ratio = torch / ours (above 1: ours faster); GFLOP/s or GB/s: ours, fwd / fwd+bwd');
    const cols = ['case', 'ours fwd', 'torch fwd', 'ratio', 'ours fwd+bwd', 'torch fwd+bwd', 'ratio'];
    if (cpu) cols.push('cpu: ours fwd', 'torch fwd', 'ratio', 'ours fwd+bwd', 'torch fwd+bwd', 'ratio');
    if (r.block) cols.push('calls per block fwd / fwd+bwd');
    console.log([...cols, 'agree', 'GFLOP/s | GB/s'].join(' | '));
    header = true;
  }
  const row = [
    `${r.name} (${r.dtype})`, fmt(r.ours.fwd), r.torch ? fmt(r.torch.fwd) : '-', r.ratio ? r.ratio.fwd.toFixed(2) : '-',
    fmt(r.ours.fwdbwd), r.torch ? fmt(r.torch.fwdbwd) : '-', r.ratio ? r.ratio.fwdbwd.toFixed(2) : '-',
  ];
  if (r.cpu) {
    row.push(fmt(r.cpu.ours.fwd), r.cpu.torch ? fmt(r.cpu.torch.fwd) : '-', r.cpu.ratio ? r.cpu.ratio.fwd.toFixed(2) : '-',
      fmt(r.cpu.ours.fwdbwd), r.cpu.torch ? fmt(r.cpu.torch.fwdbwd) : '-', r.cpu.ratio ? r.cpu.ratio.fwdbwd.toFixed(2) : '-');
  }
  if (r.block) row.push(`${r.block.fwd} / ${r.block.fwdbwd}`);
  const rate = r.gflops ? `${r.gflops.fwd.toFixed(0)} / ${r.gflops.fwdbwd.toFixed(0)} GFLOP/s` : r.gbps ? `${r.gbps.fwd.toFixed(1)} / ${r.gbps.fwdbwd.toFixed(1)} GB/s` : '-';
  row.push(r.error ?? (r.agree ? `${r.agree.ok ? 'yes' : 'NO'} (${r.agree.maxRelErr.toExponential(1)})` : '-'), rate);
  console.log(row.join(' | '));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
