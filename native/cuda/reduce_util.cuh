// reduce_util.cuh: warp and block sums for the row kernels (blocks of a multiple of 32 threads, at
// most 1024). block_sum returns the total to every thread of the block.
#pragma once
#include "cuda/cuda_types.cuh"

namespace tr {

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return __shfl_sync(0xffffffffu, v, 0);
}

// `shared` holds 32 values of T; every thread of the block must call it (it synchronises).
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* shared) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T t = lane < warps ? shared[lane] : T(0);
  return warp_sum(t);
}

}  // namespace tr

namespace tr {

template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) v = dm::fmax(v, __shfl_down_sync(0xffffffffu, v, o));
  return __shfl_sync(0xffffffffu, v, 0);
}

// The block's maximum (NaNs ignored, as std::max(m, x) with m first), to every thread.
template <typename T>
__device__ __forceinline__ T block_max(T v, T* shared) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T t = lane < warps ? shared[lane] : shared[0];
  return warp_max(t);
}

// Threads for a block that walks rows of `n` values: a multiple of 32, at most 256.
inline int row_threads(int64_t n) { return n >= 256 ? 256 : static_cast<int>(std::max<int64_t>(32, (n + 31) / 32 * 32)); }

}  // namespace tr
