// cuda_check.h: turning CUDA runtime errors into tr::Error (never abort), the one current stream
// every kernel and copy is queued on, and the launch geometry of the elementwise kernels.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/errors.h"

#define TR_CUDA_CHECK(expr)                                                                         \
  do {                                                                                              \
    cudaError_t tr_err_ = (expr);                                                                   \
    if (tr_err_ != cudaSuccess) {                                                                   \
      cudaGetLastError();                                                                           \
      ::tr::fail(::tr::ErrorCode::CUDA_ERROR, #expr, " failed: ", cudaGetErrorString(tr_err_));     \
    }                                                                                               \
  } while (0)

// After every kernel launch: a bad configuration or an earlier asynchronous fault becomes a CUDA_ERROR
// naming the kernel (no synchronisation: the stream stays asynchronous until a copy to the host).
#define TR_CUDA_LAUNCHED(kernel_name)                                                               \
  do {                                                                                              \
    cudaError_t tr_err_ = cudaGetLastError();                                                       \
    if (tr_err_ != cudaSuccess)                                                                     \
      ::tr::fail(::tr::ErrorCode::CUDA_ERROR, "kernel ", kernel_name, " failed: ", cudaGetErrorString(tr_err_)); \
  } while (0)

namespace tr {

// The current stream (one per process, non-blocking, created on first use). Every kernel, memset and
// copy goes on it, so the caching allocator can hand a freed block to the next op without a sync.
cudaStream_t cuda_stream();

// Waits for the stream; turns an asynchronous kernel fault into a CUDA_ERROR naming `what`.
void cuda_sync(const char* what);

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements (at least 1, at most 65535 * 32 blocks).
inline unsigned int grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned int>(std::max<int64_t>(1, std::min<int64_t>(b, 65535 * 32)));
}

}  // namespace tr
