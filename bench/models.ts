// models.ts: `npm run bench:models`: the UNet, the VAE decoder and encoder, BLIP, and the reward
// (BLIP + tree heads) at the `bench` configuration, forward and forward+backward (of the sum of the
// output, as the peer), ours next to ../shared/peers/torch_models.py in the same run: the peer's
// seeded weights and inputs are exported once and loaded here, the outputs are checked to agree,
// and repetitions alternate between the two sides (one peer process per repetition, each after its
// own two warm-ups; ours likewise run two untimed calls before each timed one). Prints medians with ranges, the ratio torch/ours (above 1: ours faster), images
// per second and peak memory; --json for one JSON document.
//   npx tsx bench/models.ts [--reps 3] [--only unet,vae,blip,reward] [--threads N] [--cpu] [--json]
// --cpu also times each call in process CPU time (all threads), ours and the peer's (its timing loop
// read through a wrapper, PEER_CPU below): on a shared machine the steadier figure, as in bench/ops.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  AutoencoderKL, BlipBackbone, memoryStats, noGrad, numThreads, readSafetensors, resetPeakMemory, setNumThreads, tidy, TreeHeads, UNet, resolveTree, type Tensor,
} from '../src/index.js';
import { PYTHON, TorchPeer } from './peer.js';
import { fmt, summarize, type Summary } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.resolve(here, '..', '..', 'shared', 'peers', 'torch_models.py');

interface Part {
  name: string;
  /** forward on the exported inputs -> the tensor whose sum is differentiated, and the peer's output name */
  forward: () => Tensor;
  output: string;
  batch: number;
}

function parts(what: string, w: Map<string, Tensor>, io: Map<string, Tensor>): Part[] {
  const inp = (k: string) => io.get(`input.${k}`)!;
  const sub = (prefix: string) => new Map([...w].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  if (what === 'unet') {
    const m = UNet.fromConfig('bench');
    m.loadStateDict(w);
    return [{ name: 'unet', forward: () => m.forward(inp('sample'), inp('timestep'), inp('encoder_hidden_states')), output: 'output.sample', batch: inp('sample').shape[0] }];
  }
  if (what === 'vae') {
    const m = AutoencoderKL.fromConfig('bench');
    m.loadStateDict(w);
    return [
      { name: 'vae_decoder', forward: () => m.decode(inp('latents')), output: 'output.decoded', batch: inp('latents').shape[0] },
      { name: 'vae_encoder', forward: () => m.encode(inp('image')), output: 'output.moments', batch: inp('image').shape[0] },
    ];
  }
  const blip = new BlipBackbone('bench');
  blip.loadStateDict(w, { prefix: 'blip.', strict: what === 'blip' });
  if (what === 'blip') return [{ name: 'blip', forward: () => blip.forward(inp('image'), inp('input_ids'), inp('attention_mask')), output: 'output.cls_feature', batch: inp('image').shape[0] }];
  const tree = resolveTree({ branches: { semantic: ['content', 'style'], aesthetic: ['color', 'lighting', 'layout', 'detail'] }, nodeHidden: 128, leafHidden: [128, 64, 16], act: 'gelu' });
  const heads = new TreeHeads(tree, blip.width);
  for (const [n, m] of heads.nodes) m.loadStateDict(sub(`tree.nodes.${n}.`));
  for (const [n, m] of heads.leaves) m.loadStateDict(sub(`tree.leaves.${n}.`));
  return [{ name: 'tree_reward', forward: () => heads.forward(blip.forward(inp('image'), inp('input_ids'), inp('attention_mask'))).reward, output: 'output.reward', batch: inp('image').shape[0] }];
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

/** Runs torch_models.py with its timing loop replaced by one that also reads process CPU time
 * (fwd_cpu_ms, fwdbwd_cpu_ms in its output); the peer file itself is unchanged. */
const PEER_CPU = `
import importlib.util, statistics, sys, time
spec = importlib.util.spec_from_file_location("torch_models", sys.argv[1])
m = importlib.util.module_from_spec(spec); sys.modules["torch_models"] = m; spec.loader.exec_module(m)
cpu = []
def timed(fn, reps, sync):
    for _ in range(2): fn()
    sync(); wall, used = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time(); fn(); sync()
        used.append((time.process_time() - c) * 1e3); wall.append((time.perf_counter() - t) * 1e3)
    cpu.append(statistics.median(used)); return statistics.median(wall)
measure = m.measure
def measure_cpu(*a):
    for name, f, fb, extra in measure(*a): yield name, f, fb, {**extra, "fwd_cpu_ms": cpu[-2], "fwdbwd_cpu_ms": cpu[-1]}
m.timed, m.measure = timed, measure_cpu
sys.argv = sys.argv[1:]
sys.exit(m.main())
`;

type PeerTimes = { fwd_ms: number; fwdbwd_ms: number; fwd_cpu_ms?: number; fwdbwd_cpu_ms?: number; peak_rss_mb: number };
function peerOnce(what: string, threads: number, cpu: boolean): Record<string, PeerTimes> {
  const args = ['--config', 'bench', '--what', what, '--reps', '1', '--threads', String(threads)];
  const out = execFileSync(PYTHON, cpu ? ['-c', PEER_CPU, PEER, ...args] : [PEER, ...args], {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_THREAD_TIMEOUT: '4' },
  }).toString();
  return Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.model, r]));
}

interface Row {
  model: string;
  batch: number;
  ours: { fwd: Summary; fwdbwd: Summary; peakNativeMb: number };
  torch?: { fwd: Summary; fwdbwd: Summary; peakRssMb: number };
  ratio?: { fwd: number; fwdbwd: number };
  /** With --cpu: ms of process CPU time per call, and the ratio torch / ours on them. */
  cpu?: { ours: { fwd: Summary; fwdbwd: Summary }; torch: { fwd: Summary; fwdbwd: Summary }; ratio: { fwd: number; fwdbwd: number } };
  imagesPerSecond: { fwd: number; fwdbwd: number };
  agree: { maxRelErr: number; ok: boolean };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, only: { type: 'string', default: 'unet,vae,blip,reward' }, threads: { type: 'string' }, cpu: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const reps = Number(values.reps);
  if (!(reps >= 3)) throw new Error(`Expected --reps of at least 3 but received ${values.reps}`);
  if (values.threads) setNumThreads(Number(values.threads));
  const threads = numThreads();
  if (!TorchPeer.available()) throw new Error('the PyTorch peer needs /usr/bin/python3 with torch (apt-get install python3-torch)');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'treereward-models-'));
  const rows: Row[] = [];
  try {
    for (const what of values.only!.split(',')) {
      const wPath = path.join(tmp, `${what}.w.safetensors`), ioPath = path.join(tmp, `${what}.io.safetensors`);
      execFileSync(PYTHON, [PEER, '--config', 'bench', '--what', what, '--export-safetensors', wPath, '--export-io', ioPath], { stdio: 'pipe' });
      const { tensors: w } = readSafetensors(wPath);
      const { tensors: io } = readSafetensors(ioPath);
      for (const part of parts(what, w, io)) {
        // outputs agree with the peer's on the same weights and inputs
        const mine = noGrad(() => part.forward()).toArray(), theirs = io.get(part.output)!.toArray();
        let err = 0, ref = 1e-6;
        for (let i = 0; i < theirs.length; i++) {
          err = Math.max(err, Math.abs(mine[i] - theirs[i]));
          ref = Math.max(ref, Math.abs(theirs[i]));
        }
        const runFwd = () => noGrad(() => part.forward().dispose());
        // tidy, as a training step is written (src/refl, src/reward): the graph's intermediates are
        // released at the end of the step, not when V8's collector gets to their wrappers.
        const runFb = () => tidy(() => part.forward().sum().backward());
        resetPeakMemory();
        const base = memoryStats().liveBytes;
        const of: number[] = [], ob: number[] = [], tf: number[] = [], tb: number[] = [];
        const cof: number[] = [], cob: number[] = [], ctf: number[] = [], ctb: number[] = [];
        let peakRss = 0;
        for (let r = 0; r < reps; r++) {
          // two untimed calls right before each timed one, as the peer process runs its two warm-ups right
          // before its one timed call (the peer's process has just used the cores and caches in between)
          runFwd(), runFwd();
          let m = time(runFwd);
          of.push(m.wall), cof.push(m.cpu);
          runFb(), runFb();
          m = time(runFb);
          ob.push(m.wall), cob.push(m.cpu);
          const t = peerOnce(what, threads, values.cpu!)[part.name];
          tf.push(t.fwd_ms);
          tb.push(t.fwdbwd_ms);
          if (values.cpu) ctf.push(t.fwd_cpu_ms!), ctb.push(t.fwdbwd_cpu_ms!);
          peakRss = Math.max(peakRss, t.peak_rss_mb);
        }
        const row: Row = {
          model: part.name, batch: part.batch,
          ours: { fwd: summarize(of), fwdbwd: summarize(ob), peakNativeMb: (memoryStats().peakBytes - base) / 2 ** 20 },
          torch: { fwd: summarize(tf), fwdbwd: summarize(tb), peakRssMb: peakRss },
          imagesPerSecond: { fwd: (1000 * part.batch) / summarize(of).median, fwdbwd: (1000 * part.batch) / summarize(ob).median },
          agree: { maxRelErr: err / ref, ok: err / ref < 1e-3 },
        };
        row.ratio = { fwd: row.torch!.fwd.median / row.ours.fwd.median, fwdbwd: row.torch!.fwdbwd.median / row.ours.fwdbwd.median };
        if (values.cpu) {
          const ours = { fwd: summarize(cof), fwdbwd: summarize(cob) }, torch = { fwd: summarize(ctf), fwdbwd: summarize(ctb) };
          row.cpu = { ours, torch, ratio: { fwd: torch.fwd.median / ours.fwd.median, fwdbwd: torch.fwdbwd.median / ours.fwdbwd.median } };
        }
        rows.push(row);
        if (!values.json) print(row);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (values.json) console.log(JSON.stringify({ config: 'bench', threads, reps, rows }, null, 1));
}

let header = false;
function print(r: Row): void {
  if (!header) {
    console.log('bench config, float32; ms per call, median [min-max]; ratio = torch / ours (above 1: ours faster)');
    const cpu = r.cpu ? ' | cpu: ours fwd | torch fwd | ratio | ours fwd+bwd | torch fwd+bwd | ratio' : '';
    console.log(`model (batch) | ours fwd | torch fwd | ratio | ours fwd+bwd | torch fwd+bwd | ratio${cpu} | images/s fwd, fwd+bwd | our peak native MB (fwd+bwd) | torch peak RSS MB | agree`);
    header = true;
  }
  console.log([
    `${r.model} (${r.batch})`, fmt(r.ours.fwd, 1), fmt(r.torch!.fwd, 1), r.ratio!.fwd.toFixed(2), fmt(r.ours.fwdbwd, 1), fmt(r.torch!.fwdbwd, 1), r.ratio!.fwdbwd.toFixed(2),
    ...(r.cpu ? [fmt(r.cpu.ours.fwd, 1), fmt(r.cpu.torch.fwd, 1), r.cpu.ratio.fwd.toFixed(2), fmt(r.cpu.ours.fwdbwd, 1), fmt(r.cpu.torch.fwdbwd, 1), r.cpu.ratio.fwdbwd.toFixed(2)] : []),
    `${r.imagesPerSecond.fwd.toFixed(1)}, ${r.imagesPerSecond.fwdbwd.toFixed(1)}`, r.ours.peakNativeMb.toFixed(0), r.torch!.peakRssMb.toFixed(0),
    `${r.agree.ok ? 'yes' : 'NO'} (${r.agree.maxRelErr.toExponential(1)})`,
  ].join(' | '));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
