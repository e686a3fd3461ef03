// gpu_peer.ts: drives bench/torch_gpu_peer.py (a long-lived PyTorch process on the GPU) so that our
// repetitions and PyTorch's interleave on identical inputs (bench/peer.ts does the same on the CPU).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The GPU machine's python with a CUDA build of PyTorch. Defaults to python3 on the PATH. */
export const GPU_PYTHON = process.env.TREEREWARD_GPU_PEER_PYTHON ?? 'python3';

export class GpuPeer {
  #proc: ChildProcessWithoutNullStreams;
  #lines: AsyncIterator<string>;

  constructor() {
    this.#proc = spawn(GPU_PYTHON, [path.join(here, 'torch_gpu_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NVIDIA_TF32_OVERRIDE: '0' } });
    this.#proc.stderr.on('data', (d) => process.stderr.write(`[torch] ${d}`));
    this.#lines = readline.createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  /** Whether GPU_PYTHON imports torch and numpy and sees a GPU. */
  static available(): boolean {
    const r = spawnSync(GPU_PYTHON, ['-c', 'import sys, torch, numpy; sys.exit(0 if torch.cuda.is_available() else 1)'], { stdio: 'ignore' });
    return r.status === 0;
  }

  async call(msg: object): Promise<Record<string, unknown>> {
    this.#proc.stdin.write(JSON.stringify(msg) + '\n');
    const next = await this.#lines.next();
    if (next.done) throw new Error('the PyTorch GPU peer exited');
    return JSON.parse(next.value);
  }

  close(): void {
    this.#proc.stdin.end();
  }
}
