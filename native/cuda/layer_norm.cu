// layer_norm.cu: y = (x - mean) * rstd * weight + bias over rows of D values, forward and backward
// (llm.c's layernorm_forward / layernorm_backward): a block per row, statistics by two passes in
// double; mean and rstd saved per row in the compute type. dweight/dbias: per-column partial sums over
// chunks of rows, then the sum of the chunks in double (the same order every run).
// Accumulation rule: every gradient is fresh (=).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"
#include "cuda/reduce_util.cuh"

namespace tr {

namespace {

constexpr int64_t kRowsPerChunk = 64;

template <typename S>
__global__ void layernorm_forward_kernel(S* out, acc_t<S>* mean, acc_t<S>* rstd,   // (rows, D), (rows), (rows)
                                         const S* inp, const S* weight, const S* bias,  // (rows, D), (D) or null, (D) or null
                                         int64_t D, double eps) {
  using C = acc_t<S>;
  __shared__ double sh[32];
  int64_t r = blockIdx.x;
  const S* x = inp + r * D;
  S* y = out + r * D;
  double s = 0;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += static_cast<double>(load(x[i]));
  double m = block_sum(s, sh) / static_cast<double>(D);
  double ss = 0;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    double d = static_cast<double>(load(x[i])) - m;
    ss += d * d;
  }
  double var = block_sum(ss, sh) / static_cast<double>(D);
  C tm = static_cast<C>(m), trs = static_cast<C>(1.0 / dm::sqrt(var + eps));
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    C v = (load(x[i]) - tm) * trs;
    if (weight) v *= load(weight[i]);
    if (bias) v += load(bias[i]);
    y[i] = store<S>(v);
  }
  if (threadIdx.x == 0) {
    mean[r] = tm;
    rstd[r] = trs;
  }
}

// dx = rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat)), dnorm = weight * dy.
template <typename S>
__global__ void layernorm_backward_dx_kernel(S* dinp, const S* dout, const S* inp, const S* weight, const acc_t<S>* mean,
                                             const acc_t<S>* rstd, int64_t D) {
  using C = acc_t<S>;
  __shared__ double sh[32];
  int64_t r = blockIdx.x;
  const S* x = inp + r * D;
  const S* dy = dout + r * D;
  C m = mean[r], rs = rstd[r];
  double sa = 0, sc = 0;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    C dn = weight ? load(weight[i]) * load(dy[i]) : load(dy[i]);
    sa += static_cast<double>(dn);
    sc += static_cast<double>(dn) * static_cast<double>((load(x[i]) - m) * rs);
  }
  C a = static_cast<C>(block_sum(sa, sh) / static_cast<double>(D));
  C c = static_cast<C>(block_sum(sc, sh) / static_cast<double>(D));
  S* dx = dinp + r * D;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    C n = (load(x[i]) - m) * rs;
    C dn = weight ? load(weight[i]) * load(dy[i]) : load(dy[i]);
    dx[i] = store<S>((dn - a - n * c) * rs);
  }
}

// partial (chunks, 2, D): sums over the chunk's rows of dy * xhat (dweight) and dy (dbias).
template <typename S>
__global__ void layernorm_params_partial_kernel(double* partial, const S* dout, const S* inp, const acc_t<S>* mean, const acc_t<S>* rstd,
                                                int64_t rows, int64_t D, int64_t per_chunk) {
  using C = acc_t<S>;
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= D) return;
  int64_t r0 = static_cast<int64_t>(blockIdx.y) * per_chunk, r1 = min(rows, r0 + per_chunk);
  double sw = 0, sb = 0;
  for (int64_t r = r0; r < r1; ++r) {
    C g = load(dout[r * D + i]);
    sw += static_cast<double>((load(inp[r * D + i]) - mean[r]) * rstd[r]) * static_cast<double>(g);
    sb += static_cast<double>(g);
  }
  partial[(static_cast<int64_t>(blockIdx.y) * 2) * D + i] = sw;
  partial[(static_cast<int64_t>(blockIdx.y) * 2 + 1) * D + i] = sb;
}

template <typename S>
__global__ void params_finish_kernel(S* dweight, S* dbias, const double* partial, int64_t chunks, int64_t D) {
  TR_GRID_STRIDE(i, D) {
    double sw = 0, sb = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      sw += partial[(c * 2) * D + i];
      sb += partial[(c * 2 + 1) * D + i];
    }
    if (dweight) dweight[i] = store<S>(static_cast<acc_t<S>>(sw));
    if (dbias) dbias[i] = store<S>(static_cast<acc_t<S>>(sb));
  }
}

}  // namespace

void cuda_layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            int64_t rows, int64_t D, double eps) {
  if (rows == 0) return;
  check(rows <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "layerNorm on cuda of more than 2^31 - 1 rows");
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), "layerNorm", S, {
    using C = acc_t<S>;
    layernorm_forward_kernel<S><<<static_cast<unsigned int>(rows), row_threads(D), 0, cuda_stream()>>>(
        ptr<S>(out), ptr<C>(mean), ptr<C>(rstd), ptr<S>(x), ptr<S>(w), ptr<S>(b), D, eps);
  });
  TR_CUDA_LAUNCHED("layerNorm");
}

void cuda_layernorm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                             const Tensor& mean, const Tensor& rstd, int64_t rows, int64_t D) {
  cudaStream_t st = cuda_stream();
  if (rows == 0) {
    if (dw.defined()) cuda_fill(dw, 0.0);
    if (db.defined()) cuda_fill(db, 0.0);
    return;
  }
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), "layerNorm backward", S, {
    using C = acc_t<S>;
    if (dx.defined()) {
      layernorm_backward_dx_kernel<S><<<static_cast<unsigned int>(rows), row_threads(D), 0, st>>>(ptr<S>(dx), ptr<S>(dout), ptr<S>(x),
                                                                                                   ptr<S>(w), ptr<C>(mean), ptr<C>(rstd), D);
      TR_CUDA_LAUNCHED("layerNorm backward");
    }
    if (dw.defined() || db.defined()) {
      int64_t per = std::max<int64_t>(kRowsPerChunk, (rows + 65534) / 65535);
      int64_t chunks = (rows + per - 1) / per;
      Tensor partial = empty({chunks, 2, D}, DType::F64, Device::CUDA);
      dim3 grid(static_cast<unsigned int>((D + 255) / 256), static_cast<unsigned int>(chunks));
      layernorm_params_partial_kernel<S><<<grid, 256, 0, st>>>(ptr<double>(partial), ptr<S>(dout), ptr<S>(x), ptr<C>(mean), ptr<C>(rstd),
                                                               rows, D, per);
      TR_CUDA_LAUNCHED("layerNorm backward");
      params_finish_kernel<S><<<grid_for(D), kThreads, 0, st>>>(ptr<S>(dw), ptr<S>(db), ptr<double>(partial), chunks, D);
      TR_CUDA_LAUNCHED("layerNorm backward");
    }
  });
}

}  // namespace tr
