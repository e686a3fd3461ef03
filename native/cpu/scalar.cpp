// scalar.cpp: tensor-scalar ops: a + s, a * s, a ^ p, s / a.
#include "cpu/kernel_util.h"

namespace tr {

namespace {
template <typename F>
Tensor scalar_forward(const Tensor& a, const char* name, F f) {
  check_float(a, name, "a");
  check_cpu(a, name);
  Tensor out;
  TR_FLOAT_DISPATCH(a.dtype(), T, { out = unary_new<T>(a, [&](T x) { return static_cast<T>(f(x)); }); });
  return out;
}
}  // namespace

Tensor add_scalar(const Tensor& a, double s) {
  if (lowp(a)) return cast(add_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, "add", [s](auto x) { return x + s; });
  if (needs_grad({a})) record(out, Op::AddScalar, {a}, [](const Tensor& dout) -> std::vector<Tensor> { return {dout}; });
  return out;
}

Tensor mul_scalar(const Tensor& a, double s) {
  if (lowp(a)) return cast(mul_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, "mul", [s](auto x) { return x * s; });
  if (needs_grad({a}))
    record(out, Op::MulScalar, {a}, [s](const Tensor& dout) -> std::vector<Tensor> { return {mul_scalar(dout, s)}; });
  return out;
}

Tensor pow_scalar(const Tensor& a, double p) {
  if (lowp(a)) return cast(pow_scalar(up(a), p), a.dtype());
  Tensor out = scalar_forward(a, "pow", [p](auto x) { return p == 2.0 ? x * x : std::pow(x, p); });
  if (needs_grad({a})) {
    Tensor sa = a.detach();
    record(out, Op::PowScalar, {a}, [sa, p](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g;
      TR_FLOAT_DISPATCH(sa.dtype(), T, {
        g = binary_new<T>(dout, sa, [p](T d, T x) { return static_cast<T>(d * p * (p == 2.0 ? x : std::pow(x, p - 1))); });
      });
      return {g};
    });
  }
  return out;
}

Tensor rdiv_scalar(const Tensor& a, double s) {
  if (lowp(a)) return cast(rdiv_scalar(up(a), s), a.dtype());
  Tensor out = scalar_forward(a, "rdiv", [s](auto x) { return s / x; });
  if (needs_grad({a})) {
    Tensor sa = a.detach();
    record(out, Op::RDivScalar, {a}, [sa, s](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g;
      TR_FLOAT_DISPATCH(sa.dtype(), T, { g = binary_new<T>(dout, sa, [s](T d, T x) { return static_cast<T>(-d * s / (x * x)); }); });
      return {g};
    });
  }
  return out;
}

}  // namespace tr
