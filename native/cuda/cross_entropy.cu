// cross_entropy.cu: mean over counted rows of -log softmax(logits)[target], as cross_entropy.cpp:
// targets checked (and counted) on the device first, then a block per row (max, sum of exp in double,
// probabilities saved in the compute type, the row's loss), then one block sums the rows' losses.
// Backward: (probs - onehot(target)) * dout / count, zero on ignored rows.
#include <cstdint>

#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"
#include "cuda/reduce_util.cuh"

namespace tr {

namespace {
struct TargetCheck {
  unsigned long long first_bad;
  unsigned long long count;
};

__global__ void check_targets_kernel(TargetCheck* res, const int32_t* t, int64_t N, int64_t C, int64_t ignore_index) {
  TR_GRID_STRIDE(i, N) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= C) atomicMin(&res->first_bad, static_cast<unsigned long long>(i));
    else atomicAdd(&res->count, 1ull);
  }
}

template <typename S>
__global__ void cross_entropy_rows_kernel(double* row_loss, acc_t<S>* probs, const S* x, const int32_t* t, int64_t C, int64_t ignore_index) {
  using Cc = acc_t<S>;
  __shared__ Cc shm[32];
  __shared__ double shs[32];
  int64_t i = blockIdx.x;
  const S* row = x + i * C;
  Cc m = -INFINITY;
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) m = dm::fmax(m, load(row[j]));
  m = block_max(m, shm);
  double s = 0;
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) s += dm::exp(static_cast<double>(load(row[j]) - m));
  s = block_sum(s, shs);
  double lse = static_cast<double>(m) + dm::log(s);
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) probs[i * C + j] = static_cast<Cc>(dm::exp(static_cast<double>(load(row[j])) - lse));
  if (threadIdx.x == 0) row_loss[i] = t[i] == ignore_index ? 0.0 : lse - static_cast<double>(load(row[t[i]]));
}

template <typename S>
__global__ void mean_loss_kernel(S* loss, const double* row_loss, int64_t N, int64_t count) {
  __shared__ double sh[32];
  double s = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) s += row_loss[i];
  s = block_sum(s, sh);
  if (threadIdx.x == 0) loss[0] = store<S>(static_cast<acc_t<S>>(count > 0 ? s / static_cast<double>(count) : 0.0));
}

template <typename S>
__global__ void cross_entropy_backward_kernel(S* g, const S* dout, const acc_t<S>* probs, const int32_t* t, int64_t N, int64_t C, int64_t count,
                                              int64_t ignore_index) {
  using Cc = acc_t<S>;
  Cc scale = count > 0 ? load(dout[0]) / static_cast<Cc>(count) : Cc(0);
  TR_GRID_STRIDE(k, N * C) {
    int64_t i = k / C, j = k % C;
    bool ignored = t[i] == ignore_index;
    g[k] = store<S>(ignored ? Cc(0) : (probs[k] - (j == t[i] ? Cc(1) : Cc(0))) * scale);
  }
}
}  // namespace

int64_t cuda_cross_entropy_forward(const Tensor& loss, const Tensor& probs, const Tensor& x, const Tensor& targets, int64_t N, int64_t C,
                                   int64_t ignore_index) {
  cudaStream_t st = cuda_stream();
  TargetCheck host{~0ull, 0};
  if (N > 0) {
    Tensor res = empty({2}, DType::F64, Device::CUDA);  // 16 bytes: a TargetCheck
    TR_CUDA_CHECK(cudaMemcpyAsync(res.raw(), &host, sizeof(host), cudaMemcpyHostToDevice, st));
    check_targets_kernel<<<grid_for(N), kThreads, 0, st>>>(ptr<TargetCheck>(res), ptr<int32_t>(targets), N, C, ignore_index);
    TR_CUDA_LAUNCHED("crossEntropy");
    TR_CUDA_CHECK(cudaMemcpyAsync(&host, res.raw(), sizeof(host), cudaMemcpyDeviceToHost, st));
    cuda_sync("crossEntropy's target check");
    if (host.first_bad != ~0ull) {
      int32_t value = 0;
      TR_CUDA_CHECK(cudaMemcpyAsync(&value, ptr<int32_t>(targets) + host.first_bad, 4, cudaMemcpyDeviceToHost, st));
      cuda_sync("crossEntropy's target check");
      fail(ErrorCode::INVALID_ARGUMENT, "Expected targets in [0, ", C, ") for crossEntropy but received ", value, " at row ", host.first_bad);
    }
  }
  int64_t count = static_cast<int64_t>(host.count);
  check(N <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "crossEntropy on cuda of more than 2^31 - 1 rows");
  Tensor row_loss = empty({N}, DType::F64, Device::CUDA);
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), "crossEntropy", S, {
    using Cc = acc_t<S>;
    if (N > 0 && C > 0) {
      cross_entropy_rows_kernel<S><<<static_cast<unsigned int>(N), row_threads(C), 0, st>>>(ptr<double>(row_loss), ptr<Cc>(probs), ptr<S>(x),
                                                                                           ptr<int32_t>(targets), C, ignore_index);
      TR_CUDA_LAUNCHED("crossEntropy");
    }
    mean_loss_kernel<S><<<1, 1024, 0, st>>>(ptr<S>(loss), ptr<double>(row_loss), C > 0 ? N : 0, count);
  });
  TR_CUDA_LAUNCHED("crossEntropy");
  return count;
}

void cuda_cross_entropy_backward(const Tensor& g, const Tensor& dout, const Tensor& probs, const Tensor& targets, int64_t N, int64_t C,
                                 int64_t count, int64_t ignore_index) {
  if (N * C == 0) return;
  TR_CUDA_FLOAT_DISPATCH(g.dtype(), "crossEntropy backward", S, {
    using Cc = acc_t<S>;
    cross_entropy_backward_kernel<S><<<grid_for(N * C), kThreads, 0, cuda_stream()>>>(ptr<S>(g), ptr<S>(dout), ptr<Cc>(probs),
                                                                                      ptr<int32_t>(targets), N, C, count, ignore_index);
  });
  TR_CUDA_LAUNCHED("crossEntropy backward");
}

}  // namespace tr
