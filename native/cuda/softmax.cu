// softmax.cu: softmax and log-softmax over one dimension of a tensor viewed as (outer, dim, inner),
// forward and backward, as softmax.cpp: the max in the compute type, sums in double.
// inner == 1: a block per row; otherwise a thread per (outer, inner) column walking dim (coalesced).
// Backward: softmax dx = y * (dy - sum(dy * y)); log-softmax dx = dy - exp(y) * sum(dy).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"
#include "cuda/reduce_util.cuh"

namespace tr {

namespace {

template <typename S>
__global__ void softmax_rows_kernel(S* out, const S* in, int64_t dim, bool log_space) {
  using C = acc_t<S>;
  __shared__ C shm[32];
  __shared__ double shs[32];
  int64_t base = static_cast<int64_t>(blockIdx.x) * dim;
  const S* x = in + base;
  S* y = out + base;
  C m = -INFINITY;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) m = dm::fmax(m, load(x[j]));
  m = block_max(m, shm);
  double s = 0;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) s += static_cast<double>(dm::exp(load(x[j]) - m));
  s = block_sum(s, shs);
  if (log_space) {
    C lse = m + static_cast<C>(dm::log(s));
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) y[j] = store<S>(load(x[j]) - lse);
  } else {
    C inv = static_cast<C>(1.0 / s);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) y[j] = store<S>(dm::exp(load(x[j]) - m) * inv);
  }
}

template <typename S>
__global__ void softmax_cols_kernel(S* out, const S* in, int64_t outer, int64_t dim, int64_t inner, bool log_space) {
  using C = acc_t<S>;
  TR_GRID_STRIDE(r, outer * inner) {
    int64_t o = r / inner, i = r % inner;
    const S* x = in + o * dim * inner + i;
    S* y = out + o * dim * inner + i;
    C m = -INFINITY;
    for (int64_t j = 0; j < dim; ++j) m = dm::fmax(m, load(x[j * inner]));
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += static_cast<double>(dm::exp(load(x[j * inner]) - m));
    if (log_space) {
      C lse = m + static_cast<C>(dm::log(s));
      for (int64_t j = 0; j < dim; ++j) y[j * inner] = store<S>(load(x[j * inner]) - lse);
    } else {
      C inv = static_cast<C>(1.0 / s);
      for (int64_t j = 0; j < dim; ++j) y[j * inner] = store<S>(dm::exp(load(x[j * inner]) - m) * inv);
    }
  }
}

template <typename S>
__global__ void softmax_backward_rows_kernel(S* dx, const S* dy, const S* y, int64_t dim, bool log_space) {
  using C = acc_t<S>;
  __shared__ double shs[32];
  int64_t base = static_cast<int64_t>(blockIdx.x) * dim;
  double s = 0;
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
    s += log_space ? static_cast<double>(load(dy[base + j])) : static_cast<double>(load(dy[base + j])) * load(y[base + j]);
  s = block_sum(s, shs);
  C cs = static_cast<C>(s);
  for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
    C g = load(dy[base + j]), v = load(y[base + j]);
    dx[base + j] = store<S>(log_space ? g - dm::exp(v) * cs : v * (g - cs));
  }
}

template <typename S>
__global__ void softmax_backward_cols_kernel(S* dx, const S* dy, const S* y, int64_t outer, int64_t dim, int64_t inner, bool log_space) {
  using C = acc_t<S>;
  TR_GRID_STRIDE(r, outer * inner) {
    int64_t o = r / inner, i = r % inner, base = o * dim * inner + i;
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) {
      int64_t k = base + j * inner;
      s += log_space ? static_cast<double>(load(dy[k])) : static_cast<double>(load(dy[k])) * load(y[k]);
    }
    C cs = static_cast<C>(s);
    for (int64_t j = 0; j < dim; ++j) {
      int64_t k = base + j * inner;
      C g = load(dy[k]), v = load(y[k]);
      dx[k] = store<S>(log_space ? g - dm::exp(v) * cs : v * (g - cs));
    }
  }
}

}  // namespace

void cuda_softmax_forward(const Tensor& out, const Tensor& in, int64_t outer, int64_t dim, int64_t inner, bool log_space) {
  if (outer * inner == 0 || dim == 0) return;
  const char* name = log_space ? "logSoftmax" : "softmax";
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(in.dtype(), name, S, {
    if (inner == 1 && outer <= (int64_t{1} << 31) - 1)
      softmax_rows_kernel<S><<<static_cast<unsigned int>(outer), row_threads(dim), 0, st>>>(ptr<S>(out), ptr<S>(in), dim, log_space);
    else
      softmax_cols_kernel<S><<<grid_for(outer * inner), kThreads, 0, st>>>(ptr<S>(out), ptr<S>(in), outer, dim, inner, log_space);
  });
  TR_CUDA_LAUNCHED(name);
}

void cuda_softmax_backward(const Tensor& dx, const Tensor& dy, const Tensor& y, int64_t outer, int64_t dim, int64_t inner, bool log_space) {
  if (outer * inner == 0 || dim == 0) return;
  const char* name = log_space ? "logSoftmax backward" : "softmax backward";
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(y.dtype(), name, S, {
    if (inner == 1 && outer <= (int64_t{1} << 31) - 1)
      softmax_backward_rows_kernel<S><<<static_cast<unsigned int>(outer), row_threads(dim), 0, st>>>(ptr<S>(dx), ptr<S>(dy), ptr<S>(y), dim,
                                                                                                      log_space);
    else
      softmax_backward_cols_kernel<S><<<grid_for(outer * inner), kThreads, 0, st>>>(ptr<S>(dx), ptr<S>(dy), ptr<S>(y), outer, dim, inner,
                                                                                   log_space);
  });
  TR_CUDA_LAUNCHED(name);
}

}  // namespace tr
