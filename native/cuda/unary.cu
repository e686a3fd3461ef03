// unary.cu: neg, exp, log, sqrt, abs and the activations (tanh, sigmoid, log-sigmoid, relu, gelu
// exact and tanh, silu, clamp): forward f(x) and backward g(dout, x, y) side by side, as unary.cpp
// and activations.cpp; and the dropout mask from rng.h's counter-based uniforms.
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename C> __device__ __forceinline__ C sigmoid_of(C x) {
  return x >= 0 ? C(1) / (C(1) + dm::exp(-x)) : dm::exp(x) / (C(1) + dm::exp(x));
}

// One functor per op: f(x) forward, g(d, x, y) backward (y = f(x)); lo/hi are clamp's bounds.
struct NegF {
  template <typename C> __device__ C f(C x) const { return -x; }
  template <typename C> __device__ C g(C d, C, C) const { return -d; }
};
struct ExpF {
  template <typename C> __device__ C f(C x) const { return dm::exp(x); }
  template <typename C> __device__ C g(C d, C, C y) const { return d * y; }
};
struct LogF {
  template <typename C> __device__ C f(C x) const { return dm::log(x); }
  template <typename C> __device__ C g(C d, C x, C) const { return d / x; }
};
struct SqrtF {
  template <typename C> __device__ C f(C x) const { return dm::sqrt(x); }
  template <typename C> __device__ C g(C d, C, C y) const { return d / (2 * y); }
};
struct AbsF {
  template <typename C> __device__ C f(C x) const { return dm::fabs(x); }
  template <typename C> __device__ C g(C d, C x, C) const { return x > 0 ? d : (x < 0 ? -d : d * 0); }
};
struct TanhF {
  template <typename C> __device__ C f(C x) const { return dm::tanh(x); }
  template <typename C> __device__ C g(C d, C, C y) const { return d * (1 - y * y); }
};
struct SigmoidF {
  template <typename C> __device__ C f(C x) const { return sigmoid_of(x); }
  template <typename C> __device__ C g(C d, C, C y) const { return d * y * (1 - y); }
};
struct LogSigmoidF {  // min(x, 0) - log1p(exp(-|x|)); d/dx = sigmoid(-x)
  template <typename C> __device__ C f(C x) const { return (C(0) < x ? C(0) : x) - dm::log1p(dm::exp(-dm::fabs(x))); }
  template <typename C> __device__ C g(C d, C x, C) const { return d * sigmoid_of(-x); }
};
struct ReluF {
  template <typename C> __device__ C f(C x) const { return x > 0 ? x : x * 0; }
  template <typename C> __device__ C g(C d, C x, C) const { return x > 0 ? d : d * 0; }
};
struct GeluF {
  template <typename C> __device__ C f(C x) const { return C(0.5) * x * (C(1) + dm::erf(x / C(kSqrt2))); }
  template <typename C> __device__ C g(C d, C x, C) const {
    C cdf = C(0.5) * (C(1) + dm::erf(x / C(kSqrt2)));
    C pdf = C(kInvSqrt2Pi) * dm::exp(C(-0.5) * x * x);
    return d * (cdf + x * pdf);
  }
};
struct GeluTanhF {
  template <typename C> __device__ C f(C x) const {
    C u = C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x);
    return C(0.5) * x * (C(1) + dm::tanh(u));
  }
  template <typename C> __device__ C g(C d, C x, C) const {
    C u = C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x);
    C t = dm::tanh(u);
    C du = C(kSqrt2OverPi) * (C(1) + C(3 * 0.044715) * x * x);
    return d * (C(0.5) * (C(1) + t) + C(0.5) * x * (C(1) - t * t) * du);
  }
};
struct SiluF {
  template <typename C> __device__ C f(C x) const { return x * sigmoid_of(x); }
  template <typename C> __device__ C g(C d, C x, C) const {
    C s = sigmoid_of(x);
    return d * s * (1 + x * (1 - s));
  }
};
struct ClampF {
  double lo, hi;
  template <typename C> __device__ C f(C x) const {  // std::min(std::max(x, lo), hi): NaN stays NaN
    C m = x < C(lo) ? C(lo) : x;
    return C(hi) < m ? C(hi) : m;
  }
  template <typename C> __device__ C g(C d, C x, C) const { return (x >= lo && x <= hi) ? d : d * 0; }
};

template <typename S, typename F>
__global__ void unary_kernel(S* out, const S* a, int64_t n, StridedMap am, F fn) {
  TR_GRID_STRIDE(i, n) out[i] = store<S>(fn.f(load(a[am.offset(i)])));
}

template <typename S, typename F>
__global__ void unary_backward_kernel(S* dx, const S* dout, const S* x, const S* y, int64_t n, F fn) {
  TR_GRID_STRIDE(i, n) dx[i] = store<S>(fn.g(load(dout[i]), load(x[i]), load(y[i])));
}

// Calls body(functor) with the functor of op.
template <typename Body>
void with_unary(Op op, double lo, double hi, Body body) {
  switch (op) {
    case Op::Neg: body(NegF{}); break;
    case Op::Exp: body(ExpF{}); break;
    case Op::Log: body(LogF{}); break;
    case Op::Sqrt: body(SqrtF{}); break;
    case Op::Abs: body(AbsF{}); break;
    case Op::Tanh: body(TanhF{}); break;
    case Op::Sigmoid: body(SigmoidF{}); break;
    case Op::LogSigmoid: body(LogSigmoidF{}); break;
    case Op::Relu: body(ReluF{}); break;
    case Op::Gelu: body(GeluF{}); break;
    case Op::GeluTanh: body(GeluTanhF{}); break;
    case Op::Silu: body(SiluF{}); break;
    case Op::Clamp: body(ClampF{lo, hi}); break;
    default: fail(ErrorCode::NOT_SUPPORTED, op_name(op), " has no cuda unary kernel");
  }
}

// rng.h's splitmix64 and rng_uniform, on the device: the same integers, so the same mask bits.
__device__ __forceinline__ uint64_t splitmix64_d(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
__device__ __forceinline__ double rng_uniform_d(uint64_t seed, uint64_t counter, uint64_t stream) {
  uint64_t h = splitmix64_d(splitmix64_d(seed * 0x2545f4914f6cdd1dull + stream) ^ counter);
  return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

template <typename S>
__global__ void dropout_mask_kernel(S* mask, int64_t n, double p, double keep, uint64_t seed, uint64_t offset) {
  TR_GRID_STRIDE(i, n) mask[i] = store<S>(rng_uniform_d(seed, offset + static_cast<uint64_t>(i), 3) < p ? acc_t<S>(0) : static_cast<acc_t<S>>(keep));
}

}  // namespace

Tensor cuda_unary(Op op, const Tensor& a, double lo, double hi) {
  const char* name = op_name(op);
  Tensor out = empty(a.shape(), a.dtype(), Device::CUDA);
  int64_t n = out.numel();
  if (n == 0) return out;
  StridedMap am = merged_maps(a.shape(), {a.strides()})[0];
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(a.dtype(), name, S, {
    with_unary(op, lo, hi, [&](auto fn) { unary_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), n, am, fn); });
  });
  TR_CUDA_LAUNCHED(name);
  return out;
}

Tensor cuda_unary_backward(Op op, const Tensor& dout_in, const Tensor& x, const Tensor& y, double lo, double hi) {
  const char* name = op_name(op);
  Tensor dout = contiguous(dout_in);
  Tensor dx = empty(x.shape(), x.dtype(), Device::CUDA);
  int64_t n = dx.numel();
  if (n == 0) return dx;
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), name, S, {
    with_unary(op, lo, hi, [&](auto fn) {
      unary_backward_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(dx), ptr<S>(dout), ptr<S>(x), ptr<S>(y), n, fn);
    });
  });
  TR_CUDA_LAUNCHED(name);
  return dx;
}

Tensor cuda_dropout_mask(const Shape& shape, DType dtype, double p, uint64_t seed, uint64_t offset) {
  Tensor mask = empty(shape, dtype, Device::CUDA);
  int64_t n = mask.numel();
  if (n == 0) return mask;
  double keep = 1.0 / (1.0 - p);
  TR_CUDA_FLOAT_DISPATCH(dtype, "dropout", S, {
    dropout_mask_kernel<S><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<S>(mask), n, p, keep, seed, offset);
  });
  TR_CUDA_LAUNCHED("dropout");
  return mask;
}

}  // namespace tr
