// peer.ts: drives bench/torch_peer.py (a long-lived PyTorch process) so that our repetitions and
// PyTorch's interleave on identical inputs. It runs as many threads as we do, its OpenBLAS included
// (OPENBLAS_NUM_THREADS: torch.set_num_threads does not reach it), and its idle threads behave as
// ours: OpenBLAS and GNU OpenMP spin a fraction of a millisecond after their work, then sleep
// (OPENBLAS_THREAD_TIMEOUT=18, 2^18 cycles; GOMP_SPINCOUNT=10000, our oneDNN's default), so neither
// side's idle threads hold cores while the other runs, and neither pays a wake-up per call inside a
// forward+backward.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PYTHON = process.env.TREEREWARD_PEER_PYTHON ?? '/usr/bin/python3';

export class TorchPeer {
  #proc: ChildProcessWithoutNullStreams;
  #lines: AsyncIterator<string>;

  constructor(threads: number) {
    const env = { ...process.env };
    env.OPENBLAS_NUM_THREADS ??= String(threads);
    env.OPENBLAS_THREAD_TIMEOUT ??= '18';
    if (env.OMP_WAIT_POLICY === undefined) env.GOMP_SPINCOUNT ??= '10000';
    this.#proc = spawn(PYTHON, [path.join(here, 'torch_peer.py'), String(threads)], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.#proc.stderr.on('data', (d) => process.stderr.write(`[torch] ${d}`));
    this.#lines = readline.createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  static available(): boolean {
    if (!existsSync(PYTHON)) return false;
    return spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
  }

  async call(msg: object): Promise<Record<string, unknown>> {
    this.#proc.stdin.write(JSON.stringify(msg) + '\n');
    const next = await this.#lines.next();
    if (next.done) throw new Error('the PyTorch peer exited');
    return JSON.parse(next.value);
  }

  close(): void {
    this.#proc.stdin.end();
  }
}
