// test-cuda-sim.mjs: builds the addon with the CUDA simulator (build-sim/: native/cuda compiled as C++,
// a 'cuda' device whose kernels run thread by thread on the CPU; native/cuda/sim/trsim.h) and runs the
// GPU tests (test/gpu) against it, then the attention tests again with an RTX 4090's 99 KB of opt-in
// shared memory (the fused kernels whose tiles do not fit must fall back to the composed form).
//   node scripts/test-cuda-sim.mjs [--asan] [vitest arguments: a file filter, -t NAME]
// --asan: the AddressSanitizer build (build-sim-asan/; about 2.5x slower): any kernel read or write
// outside its buffers fails the op that launched it, with AddressSanitizer's report.
// Environment: TRSIM_SEED (thread order), TRSIM_MEMORY_MB, TRSIM_SHARED_OPTIN_KB (see sim/cuda_runtime.h).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);
const asan = args.includes('--asan');
const vitestArgs = args.filter((a) => a !== '--asan');
const out = asan ? 'build-sim-asan' : 'build-sim';

function step(what, cmd, argv, env = process.env) {
  console.log(`[cuda-sim] ${what}: ${path.basename(cmd)} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`[cuda-sim] ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function libasan() {
  const r = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  return r.stdout.trim();
}

step('build', bin('cmake-js'), ['compile', '--out', out, '--CDTREEREWARD_CUDA_SIM=ON', '--CDTREEREWARD_CUDA=OFF',
  `--CDTREEREWARD_CUDA_SIM_ASAN=${asan ? 'ON' : 'OFF'}`]);
const env = {
  ...process.env,
  TREEREWARD_GPU_TESTS: '1',
  TREEREWARD_ADDON: path.join(root, out, 'Release', 'treereward.node'),
  ...(asan ? { LD_PRELOAD: libasan(), ASAN_OPTIONS: 'halt_on_error=0:detect_leaks=0' } : {}),
};
// test files named among the arguments narrow the run; otherwise all of test/gpu
const files = vitestArgs.filter((a, i) => a.startsWith('test/') && vitestArgs[i - 1] !== '-t');
step('test/gpu on the simulator', bin('vitest'), ['run', ...(files.length ? [] : ['test/gpu']), ...vitestArgs], env);
if (vitestArgs.length === 0) {
  step('attention with 99 KB of opt-in shared memory (RTX 4090)', bin('vitest'), ['run', 'test/gpu/attention.test.ts'],
    { ...env, TRSIM_SHARED_OPTIN_KB: '99' });
}
