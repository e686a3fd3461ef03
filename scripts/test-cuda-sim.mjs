// test-cuda-sim.mjs: builds the addon with the CUDA simulator (build-sim/: native/cuda compiled as C++,
// a 'cuda' device whose kernels run thread by thread on the CPU; native/cuda/sim/trsim.h) and runs the
// GPU tests (test/gpu) against it. Extra arguments go to vitest (a file filter, -t NAME).
// Environment: TRSIM_SEED (thread order), TRSIM_MEMORY_MB, TRSIM_SHARED_OPTIN_KB (see sim/cuda_runtime.h).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function step(what, cmd, args, env = process.env) {
  console.log(`[cuda-sim] ${what}: ${path.basename(cmd)} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`[cuda-sim] ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

step('build', bin('cmake-js'), ['compile', '--out', 'build-sim', '--CDTREEREWARD_CUDA_SIM=ON', '--CDTREEREWARD_CUDA=OFF']);
step('test/gpu on the simulator', bin('vitest'), ['run', 'test/gpu', ...process.argv.slice(2)], {
  ...process.env,
  TREEREWARD_GPU_TESTS: '1',
  TREEREWARD_ADDON: path.join(root, 'build-sim', 'Release', 'treereward.node'),
});
