// group_norm.cu: x (N, C, S) normalised over each (n, group) of Cg = C / G channels and S positions
// (one contiguous run of Cg * S values), y = xhat * weight[c] + bias[c], and with `silu` SiLU in the
// same pass (group_norm_silu; its backward recomputes the pre-activation z). A block per (n, group);
// statistics by two passes in double; mean and rstd saved per (n, group) in the compute type.
// Backward as group_norm.cpp: per-channel sums of dz and dz * xhat, then dx; dweight/dbias sum over n.
// Accumulation rule: every gradient is fresh (=).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"
#include "cuda/reduce_util.cuh"

namespace tr {

namespace {

struct GroupGeom {
  int64_t C, G, Cg, S;
};

template <typename C> __device__ __forceinline__ C sigmoid_c(C x) {
  return x >= 0 ? C(1) / (C(1) + dm::exp(-x)) : dm::exp(x) / (C(1) + dm::exp(x));
}

template <typename S>
__global__ void groupnorm_forward_kernel(S* out, acc_t<S>* mean, acc_t<S>* rstd, const S* inp, const S* weight, const S* bias, GroupGeom g,
                                         double eps, bool silu) {
  using C = acc_t<S>;
  __shared__ double sh[32];
  int64_t ng = blockIdx.x, len = g.Cg * g.S;
  const S* x = inp + ng * len;
  S* y = out + ng * len;
  double s = 0;
  for (int64_t k = threadIdx.x; k < len; k += blockDim.x) s += static_cast<double>(load(x[k]));
  double m = block_sum(s, sh) / static_cast<double>(len);
  double ss = 0;
  for (int64_t k = threadIdx.x; k < len; k += blockDim.x) {
    double d = static_cast<double>(load(x[k])) - m;
    ss += d * d;
  }
  double var = block_sum(ss, sh) / static_cast<double>(len);
  C tm = static_cast<C>(m), trs = static_cast<C>(1.0 / dm::sqrt(var + eps));
  int64_t c0 = (ng % g.G) * g.Cg;
  for (int64_t k = threadIdx.x; k < len; k += blockDim.x) {
    int64_t c = c0 + k / g.S;
    C scale = trs * (weight ? load(weight[c]) : C(1));
    C off = (bias ? load(bias[c]) : C(0)) - tm * scale;
    C z = load(x[k]) * scale + off;
    y[k] = store<S>(silu ? z * sigmoid_c(z) : z);
  }
  if (threadIdx.x == 0) {
    mean[ng] = tm;
    rstd[ng] = trs;
  }
}

// dz: the gradient at the normalised-and-affine value z (through SiLU when `silu`).
template <typename S>
__device__ __forceinline__ acc_t<S> grad_z(const S* dy, const S* x, int64_t k, acc_t<S> scale, acc_t<S> off, bool silu) {
  using C = acc_t<S>;
  C d = load(dy[k]);
  if (!silu) return d;
  C z = load(x[k]) * scale + off;
  C s = sigmoid_c(z);
  return d * s * (C(1) + z * (C(1) - s));
}

// sums (N, C, 2): per channel, sum of dz and sum of dz * xhat; then dx for the group.
template <typename S>
__global__ void groupnorm_backward_kernel(S* dinp, double* sums, const S* dout, const S* inp, const S* weight, const S* bias,
                                          const acc_t<S>* mean, const acc_t<S>* rstd, GroupGeom g, bool silu) {
  using C = acc_t<S>;
  __shared__ double sh[32];
  int64_t ng = blockIdx.x, len = g.Cg * g.S, n = ng / g.G, c0 = (ng % g.G) * g.Cg;
  const S* x = inp + ng * len;
  const S* dy = dout + ng * len;
  C m = mean[ng], rs = rstd[ng];
  double a = 0, cc = 0;
  for (int64_t j = 0; j < g.Cg; ++j) {
    int64_t c = c0 + j;
    C w = weight ? load(weight[c]) : C(1);
    C scale = rs * w, off = (bias ? load(bias[c]) : C(0)) - m * scale;
    double sd = 0, sdx = 0;
    for (int64_t i = threadIdx.x; i < g.S; i += blockDim.x) {
      int64_t k = j * g.S + i;
      C dz = grad_z(dy, x, k, scale, off, silu);
      sd += static_cast<double>(dz);
      sdx += static_cast<double>(dz) * static_cast<double>((load(x[k]) - m) * rs);
    }
    sd = block_sum(sd, sh);
    sdx = block_sum(sdx, sh);
    if (threadIdx.x == 0) {
      sums[(n * g.C + c) * 2] = sd;
      sums[(n * g.C + c) * 2 + 1] = sdx;
    }
    a += static_cast<double>(w) * sd;
    cc += static_cast<double>(w) * sdx;
  }
  if (!dinp) return;
  // dx = rstd * (dz * w - mean(dz * w) - xhat * mean(dz * w * xhat))
  C ma = static_cast<C>(a / static_cast<double>(len)), mc = static_cast<C>(cc / static_cast<double>(len));
  S* dx = dinp + ng * len;
  for (int64_t k = threadIdx.x; k < len; k += blockDim.x) {
    int64_t c = c0 + k / g.S;
    C w = weight ? load(weight[c]) : C(1);
    C scale = rs * w, off = (bias ? load(bias[c]) : C(0)) - m * scale;
    C dz = grad_z(dout + ng * len, x, k, scale, off, silu);
    dx[k] = store<S>((dz * w - ma - (load(x[k]) - m) * rs * mc) * rs);
  }
}

template <typename S>
__global__ void groupnorm_params_kernel(S* dweight, S* dbias, const double* sums, int64_t N, int64_t C) {
  TR_GRID_STRIDE(c, C) {
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < N; ++n) {
      sb += sums[(n * C + c) * 2];
      sw += sums[(n * C + c) * 2 + 1];
    }
    if (dweight) dweight[c] = store<S>(static_cast<acc_t<S>>(sw));
    if (dbias) dbias[c] = store<S>(static_cast<acc_t<S>>(sb));
  }
}

int group_threads(int64_t len) { return len >= 8192 ? 1024 : row_threads(len); }

}  // namespace

void cuda_groupnorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            int64_t N, int64_t C, int64_t G, int64_t S, double eps, bool silu) {
  int64_t groups = N * G, len = (C / G) * S;
  if (groups == 0 || len == 0) return;
  check(groups <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "groupNorm on cuda of more than 2^31 - 1 groups");
  GroupGeom g{C, G, C / G, S};
  const char* name = silu ? "groupNormSilu" : "groupNorm";
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), name, S_, {
    using Cc = acc_t<S_>;
    groupnorm_forward_kernel<S_><<<static_cast<unsigned int>(groups), group_threads(len), 0, cuda_stream()>>>(
        ptr<S_>(out), ptr<Cc>(mean), ptr<Cc>(rstd), ptr<S_>(x), ptr<S_>(w), ptr<S_>(b), g, eps, silu);
  });
  TR_CUDA_LAUNCHED(name);
}

void cuda_groupnorm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                             const Tensor& b, const Tensor& mean, const Tensor& rstd, int64_t N, int64_t C, int64_t G, int64_t S, bool silu) {
  int64_t groups = N * G, len = (C / G) * S;
  const char* name = silu ? "groupNormSilu backward" : "groupNorm backward";
  cudaStream_t st = cuda_stream();
  if (groups == 0 || len == 0) {
    if (dw.defined()) cuda_fill(dw, 0.0);
    if (db.defined()) cuda_fill(db, 0.0);
    return;
  }
  GroupGeom g{C, G, C / G, S};
  Tensor sums = empty({N, C, 2}, DType::F64, Device::CUDA);
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), name, S_, {
    using Cc = acc_t<S_>;
    groupnorm_backward_kernel<S_><<<static_cast<unsigned int>(groups), group_threads(len), 0, st>>>(
        ptr<S_>(dx), ptr<double>(sums), ptr<S_>(dout), ptr<S_>(x), ptr<S_>(w), ptr<S_>(b), ptr<Cc>(mean), ptr<Cc>(rstd), g, silu);
    TR_CUDA_LAUNCHED(name);
    if (dw.defined() || db.defined()) {
      groupnorm_params_kernel<S_><<<grid_for(C), kThreads, 0, st>>>(ptr<S_>(dw), ptr<S_>(db), ptr<double>(sums), N, C);
      TR_CUDA_LAUNCHED(name);
    }
  });
}

}  // namespace tr
