// binary.cu: add, sub, mul, div, pow with NumPy broadcasting, and the tensor-scalar ops (a + s,
// a * s, a ^ p, s / a) with the gradients of the last two. Computed as scalar.cpp / binary.cpp do:
// binary ops in the compute type, scalar ops in double (the CPU promotes x op s to double).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {

struct AddF { template <typename C> __device__ C operator()(C x, C y) const { return x + y; } };
struct SubF { template <typename C> __device__ C operator()(C x, C y) const { return x - y; } };
struct MulF { template <typename C> __device__ C operator()(C x, C y) const { return x * y; } };
struct DivF { template <typename C> __device__ C operator()(C x, C y) const { return x / y; } };
struct PowF { template <typename C> __device__ C operator()(C x, C y) const { return dm::pow(x, y); } };

template <typename S, typename F>
__global__ void binary_kernel(S* out, const S* a, const S* b, int64_t n, StridedMap am, StridedMap bm, F f) {
  TR_GRID_STRIDE(i, n) out[i] = store<S>(f(load(a[am.offset(i)]), load(b[bm.offset(i)])));
}

template <typename S, typename F>
__global__ void binary_contig_kernel(S* out, const S* a, const S* b, int64_t n, F f) {
  TR_GRID_STRIDE(i, n) out[i] = store<S>(f(load(a[i]), load(b[i])));
}

struct AddS { double s; __device__ double operator()(double x) const { return x + s; } };
struct MulS { double s; __device__ double operator()(double x) const { return x * s; } };
struct RDivS { double s; __device__ double operator()(double x) const { return s / x; } };
struct PowS {
  double p;
  template <typename C> __device__ double apply(C x) const { return p == 2.0 ? static_cast<double>(x * x) : dm::pow(static_cast<double>(x), p); }
};

template <typename S, typename F>
__global__ void scalar_kernel(S* out, const S* a, int64_t n, StridedMap am, F f) {
  TR_GRID_STRIDE(i, n) out[i] = store<S>(static_cast<acc_t<S>>(f(static_cast<double>(load(a[am.offset(i)])))));
}

template <typename S>
__global__ void pow_scalar_kernel(S* out, const S* a, int64_t n, StridedMap am, PowS f) {
  TR_GRID_STRIDE(i, n) out[i] = store<S>(static_cast<acc_t<S>>(f.apply(load(a[am.offset(i)]))));
}

// Gradients, in the compute type as scalar.cpp's closures: d * p * x^(p-1) and -d * s / (x * x).
template <typename S>
__global__ void pow_scalar_backward_kernel(S* dx, const S* dout, const S* x, int64_t n, double p) {
  using C = acc_t<S>;
  TR_GRID_STRIDE(i, n) {
    C d = load(dout[i]), v = load(x[i]);
    dx[i] = store<S>(static_cast<C>(d * p * (p == 2.0 ? static_cast<double>(v) : dm::pow(static_cast<double>(v), p - 1))));
  }
}
template <typename S>
__global__ void rdiv_scalar_backward_kernel(S* dx, const S* dout, const S* x, int64_t n, double s) {
  using C = acc_t<S>;
  TR_GRID_STRIDE(i, n) {
    C d = load(dout[i]), v = load(x[i]);
    dx[i] = store<S>(static_cast<C>(-d * s / static_cast<double>(v * v)));
  }
}

template <typename S, typename F>
void launch_binary(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  int64_t n = out.numel();
  if (n == 0) return;
  cudaStream_t st = cuda_stream();
  if (a.shape() == out.shape() && b.shape() == out.shape() && a.is_contiguous() && b.is_contiguous()) {
    binary_contig_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), ptr<S>(b), n, f);
  } else {
    auto maps = merged_maps(out.shape(), {broadcast_strides(a, out.shape()), broadcast_strides(b, out.shape())});
    binary_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), ptr<S>(b), n, maps[0], maps[1], f);
  }
  TR_CUDA_LAUNCHED("binary");
}

}  // namespace

Tensor cuda_binary(Op op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, a.dtype(), Device::CUDA);
  TR_CUDA_FLOAT_DISPATCH(a.dtype(), name, S, {
    switch (op) {
      case Op::Add: launch_binary<S>(out, a, b, AddF{}); break;
      case Op::Sub: launch_binary<S>(out, a, b, SubF{}); break;
      case Op::Mul: launch_binary<S>(out, a, b, MulF{}); break;
      case Op::Div: launch_binary<S>(out, a, b, DivF{}); break;
      case Op::Pow: launch_binary<S>(out, a, b, PowF{}); break;
      default: fail(ErrorCode::INTERNAL, "cuda_binary has no op ", name);
    }
  });
  return out;
}

Tensor cuda_scalar(Op op, const Tensor& a, double s) {
  const char* name = op_name(op);
  Tensor out = empty(a.shape(), a.dtype(), Device::CUDA);
  int64_t n = out.numel();
  if (n == 0) return out;
  StridedMap am = merged_maps(a.shape(), {a.strides()})[0];
  cudaStream_t st = cuda_stream();
  unsigned int blocks = grid_for(n);
  TR_CUDA_FLOAT_DISPATCH(a.dtype(), name, S, {
    switch (op) {
      case Op::AddScalar: scalar_kernel<S><<<blocks, kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), n, am, AddS{s}); break;
      case Op::MulScalar: scalar_kernel<S><<<blocks, kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), n, am, MulS{s}); break;
      case Op::RDivScalar: scalar_kernel<S><<<blocks, kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), n, am, RDivS{s}); break;
      case Op::PowScalar: pow_scalar_kernel<S><<<blocks, kThreads, 0, st>>>(ptr<S>(out), ptr<S>(a), n, am, PowS{s}); break;
      default: fail(ErrorCode::INTERNAL, "cuda_scalar has no op ", name);
    }
  });
  TR_CUDA_LAUNCHED(name);
  return out;
}

Tensor cuda_scalar_backward(Op op, const Tensor& dout_in, const Tensor& x_in, double s) {
  const char* name = op_name(op);
  Tensor dout = contiguous(dout_in), x = contiguous(x_in);
  Tensor dx = empty(x.shape(), x.dtype(), Device::CUDA);
  int64_t n = x.numel();
  if (n == 0) return dx;
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), name, S, {
    if (op == Op::PowScalar)
      pow_scalar_backward_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(dx), ptr<S>(dout), ptr<S>(x), n, s);
    else if (op == Op::RDivScalar)
      rdiv_scalar_backward_kernel<S><<<grid_for(n), kThreads, 0, st>>>(ptr<S>(dx), ptr<S>(dout), ptr<S>(x), n, s);
    else
      fail(ErrorCode::INTERNAL, "cuda_scalar_backward has no op ", name);
  });
  TR_CUDA_LAUNCHED(name);
  return dx;
}

}  // namespace tr
