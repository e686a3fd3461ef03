#!/usr/bin/env bash
# gpu-check.sh: the device check, run on a GPU machine from the repository root: unpack Node and
# the test dependencies carried in .gpu/bundle.tar.xz (the GPU machine has no Node and no registry),
# build the addon with CUDA, run the GPU tests, the GPU benchmark (`npm run bench:gpu`: ours beside
# PyTorch at SD1.5's sizes; TR_BENCH_ARGS narrows it, e.g. "--only attention,conv2d --batch 1";
# TR_SKIP_BENCH=1 skips it), an SD1.5 ReFL step's memory and time on the GPU (bench/refl-memory.ts;
# TR_SKIP_REFL=1 skips it), then the CPU suite there. Logs go to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT" /tmp/b
tar -xJf .gpu/bundle.tar.xz -C /tmp/b
export PATH=/tmp/b/bin:$PATH
[ -e node_modules ] || ln -s /tmp/b/node_modules node_modules
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; node --version; nvcc --version | tail -1; nproc; } 2>&1 | tee "$OUT/machine.txt"
# cuDNN: the toolkit seldom has it; PyTorch's NVIDIA wheel does (site-packages/nvidia/cudnn). CUDNN_ROOT wins.
if [ -z "${CUDNN_ROOT:-}" ]; then
  CUDNN_ROOT=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null) && export CUDNN_ROOT || unset CUDNN_ROOT
fi
# cuBLAS: the toolkit's when it has one (CMake finds it), else PyTorch's NVIDIA wheel (site-packages/nvidia/cublas).
if [ -z "${CUBLAS_ROOT:-}" ] && ! ls /usr/local/cuda/lib64/libcublas.so* /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so* >/dev/null 2>&1; then
  CUBLAS_ROOT=$(python3 -c "import nvidia.cublas as m; print(list(m.__path__)[0])" 2>/dev/null) && export CUBLAS_ROOT || unset CUBLAS_ROOT
fi
echo "CUDNN_ROOT=${CUDNN_ROOT:-none} CUBLAS_ROOT=${CUBLAS_ROOT:-toolkit or none}" | tee -a "$OUT/machine.txt"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_JS_INC="$PWD/node_modules/node-api-headers/include" ${TR_CMAKE_ARGS:-} > "$OUT/build.log" 2>&1 \
  && cmake --build build-gpu -j "$(nproc)" >> "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
tail -3 "$OUT/build.log"
export TREEREWARD_ADDON=$PWD/build-gpu/treereward.node
node -e "const b=require(process.env.TREEREWARD_ADDON); console.log(JSON.stringify(b.buildInfo())); if (!b.hasCuda() && !process.env.TR_CMAKE_ARGS) { console.error('no CUDA GPU visible'); process.exit(1); }" | tee -a "$OUT/machine.txt" || exit 1
TREEREWARD_GPU_TESTS=1 node node_modules/vitest/vitest.mjs run test/gpu 2>&1 | tee "$OUT/test-gpu.log" | tail -25
# the tiled matmul kernel too, where cuBLAS served the run above
TREEREWARD_GPU_TESTS=1 TREEREWARD_CUDA_GEMM=tiled node node_modules/vitest/vitest.mjs run test/gpu/ops.test.ts -t "matmul|linear|attention" 2>&1 | tee "$OUT/test-gpu-tiled.log" | tail -6
if [ -z "${TR_SKIP_BENCH:-}" ]; then
  # npm run bench:gpu, without npm (the bundle carries node and tsx)
  node node_modules/tsx/dist/cli.mjs bench/gpu.ts --json-out "$OUT/bench-gpu.json" ${TR_BENCH_ARGS:-} 2>&1 | tee "$OUT/bench-gpu.log" | tail -60
fi
if [ -z "${TR_SKIP_REFL:-}" ]; then
  # the issue's third target: a ReFL step at SD1.5's size fits with gradient checkpointing (peak reserved GiB, seconds)
  node node_modules/tsx/dist/cli.mjs bench/refl-memory.ts --batch ${TR_REFL_BATCH:-1,4} --checkpointing on 2>&1 | tee "$OUT/refl-memory.log" | tail -8
fi
node node_modules/vitest/vitest.mjs run test/ops test/engine 2>&1 | tee "$OUT/test-cpu.log" | tail -8
