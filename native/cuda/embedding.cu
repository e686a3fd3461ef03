// embedding.cu: rows of a (V, D) table by int32 index, and the backward's scatter-add into a dense
// weight gradient (atomic adds in float32/float64; bf16/f16 gradients accumulate in a float32 buffer).
// Indices are checked on the device first; a bad one is reported by position as on the CPU.
#include <cstdint>

#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {
__global__ void check_indices_kernel(unsigned long long* first_bad, const int32_t* idx, int64_t n, int64_t V) {
  TR_GRID_STRIDE(i, n) {
    if (idx[i] < 0 || idx[i] >= V) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

template <typename S>
__global__ void embedding_forward_kernel(S* out, const S* w, const int32_t* idx, int64_t n, int64_t D) {
  TR_GRID_STRIDE(k, n * D) {
    int64_t i = k / D, j = k % D;
    out[k] = w[static_cast<int64_t>(idx[i]) * D + j];
  }
}

template <typename S, typename A>
__global__ void embedding_backward_kernel(A* g, const S* dout, const int32_t* idx, int64_t n, int64_t D) {
  TR_GRID_STRIDE(k, n * D) {
    int64_t i = k / D, j = k % D;
    atomicAdd(g + static_cast<int64_t>(idx[i]) * D + j, static_cast<A>(load(dout[k])));
  }
}
}  // namespace

void cuda_embedding_forward(const Tensor& out, const Tensor& w, const Tensor& idx, int64_t V, int64_t D) {
  int64_t n = idx.numel();
  if (n == 0) return;
  cudaStream_t st = cuda_stream();
  Tensor bad = empty({1}, DType::F64, Device::CUDA);  // 8 bytes for the first bad position
  TR_CUDA_CHECK(cudaMemsetAsync(bad.raw(), 0xff, 8, st));
  check_indices_kernel<<<grid_for(n), kThreads, 0, st>>>(ptr<unsigned long long>(bad), ptr<int32_t>(idx), n, V);
  TR_CUDA_LAUNCHED("embedding");
  unsigned long long first = 0;
  TR_CUDA_CHECK(cudaMemcpyAsync(&first, bad.raw(), 8, cudaMemcpyDeviceToHost, st));
  cuda_sync("embedding's index check");
  if (first != ~0ull) {
    int32_t value = 0;
    TR_CUDA_CHECK(cudaMemcpyAsync(&value, ptr<int32_t>(idx) + first, 4, cudaMemcpyDeviceToHost, st));
    cuda_sync("embedding's index check");
    fail(ErrorCode::INVALID_ARGUMENT, "Expected indices in [0, ", V, ") for embedding but received ", value, " at position ", first);
  }
  if (D == 0) return;
  TR_CUDA_FLOAT_DISPATCH(w.dtype(), "embedding", S, {
    embedding_forward_kernel<S><<<grid_for(n * D), kThreads, 0, st>>>(ptr<S>(out), ptr<S>(w), ptr<int32_t>(idx), n, D);
  });
  TR_CUDA_LAUNCHED("embedding");
}

void cuda_embedding_backward(const Tensor& g, const Tensor& dout, const Tensor& idx, int64_t V, int64_t D) {
  int64_t n = idx.numel();
  if (n * D == 0) return;
  cudaStream_t st = cuda_stream();
  switch (g.dtype()) {
    case DType::F32:
      embedding_backward_kernel<float, float><<<grid_for(n * D), kThreads, 0, st>>>(ptr<float>(g), ptr<float>(dout), ptr<int32_t>(idx), n, D);
      break;
    case DType::F64:
      embedding_backward_kernel<double, double><<<grid_for(n * D), kThreads, 0, st>>>(ptr<double>(g), ptr<double>(dout), ptr<int32_t>(idx), n, D);
      break;
    default: {
      Tensor acc = zeros({V, D}, DType::F32, Device::CUDA);
      TR_CUDA_FLOAT_DISPATCH(g.dtype(), "embedding backward", S, {
        embedding_backward_kernel<S, float><<<grid_for(n * D), kThreads, 0, st>>>(ptr<float>(acc), ptr<S>(dout), ptr<int32_t>(idx), n, D);
      });
      TR_CUDA_LAUNCHED("embedding backward");
      cuda_copy(g, acc);
      return;
    }
  }
  TR_CUDA_LAUNCHED("embedding backward");
}

}  // namespace tr
