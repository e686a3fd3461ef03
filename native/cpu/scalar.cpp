// scalar.cpp: tensor-scalar ops: a + s, a * s, a ^ p, s / a. On cuda the forward and the two
// dedicated backward loops run in native/cuda/binary.cu (bf16/f16 natively, computed in f32).
#include "cpu/kernel_util.h"

namespace tr {

namespace {
// The forward on a's device; on the cpu, bf16/f16 inputs are promoted by the caller first.
template <typename F>
Tensor scalar_forward(const Tensor& a, Op op, double s, const char* name, F f) {
  check_float(a, name, "a");
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) return cuda_scalar(op, a, s);
#endif
  Tensor out;
  TR_FLOAT_DISPATCH(a.dtype(), T, { out = unary_new<T>(a, [&](T x) { return static_cast<T>(f(x)); }); });
  return out;
}
}  // namespace

Tensor add_scalar(const Tensor& a, double s) {
  if (promote(a)) return cast(add_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, Op::AddScalar, s, "add", [s](auto x) { return x + s; });
  if (needs_grad({a})) record(out, Op::AddScalar, {a}, [](const Tensor& dout) -> std::vector<Tensor> { return {dout}; });
  return out;
}

Tensor mul_scalar(const Tensor& a, double s) {
  if (promote(a)) return cast(mul_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, Op::MulScalar, s, "mul", [s](auto x) { return x * s; });
  if (needs_grad({a}))
    record(out, Op::MulScalar, {a}, [s](const Tensor& dout) -> std::vector<Tensor> { return {mul_scalar(dout, s)}; });
  return out;
}

Tensor pow_scalar(const Tensor& a, double p) {
  if (promote(a)) return cast(pow_scalar(up(a), p), a.dtype());
  Tensor out = scalar_forward(a, Op::PowScalar, p, "pow", [p](auto x) { return p == 2.0 ? x * x : std::pow(x, p); });
  if (needs_grad({a})) {
    Tensor sa = a.detach();
    record(out, Op::PowScalar, {a}, [sa, p](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g;
#ifdef TR_HAVE_CUDA
      if (sa.device() == Device::CUDA) return {cuda_scalar_backward(Op::PowScalar, dout, sa, p)};
#endif
      TR_FLOAT_DISPATCH(sa.dtype(), T, {
        g = binary_new<T>(dout, sa, [p](T d, T x) { return static_cast<T>(d * p * (p == 2.0 ? x : std::pow(x, p - 1))); });
      });
      return {g};
    });
  }
  return out;
}

Tensor rdiv_scalar(const Tensor& a, double s) {
  if (promote(a)) return cast(rdiv_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, Op::RDivScalar, s, "rdiv", [s](auto x) { return s / x; });
  if (needs_grad({a})) {
    Tensor sa = a.detach();
    record(out, Op::RDivScalar, {a}, [sa, s](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g;
#ifdef TR_HAVE_CUDA
      if (sa.device() == Device::CUDA) return {cuda_scalar_backward(Op::RDivScalar, dout, sa, s)};
#endif
      TR_FLOAT_DISPATCH(sa.dtype(), T, { g = binary_new<T>(dout, sa, [s](T d, T x) { return static_cast<T>(-d * s / (x * x)); }); });
      return {g};
    });
  }
  return out;
}

}  // namespace tr
