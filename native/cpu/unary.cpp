// unary.cpp: neg, exp, log, sqrt, abs. Forward f(x) and backward g(dout, x, y) side by side.
#include "cpu/unary_op.h"

namespace tr {

Tensor neg(const Tensor& a) {
  if (promote(a)) return cast(neg(up(a)), a.dtype());
  return unary_op(a, Op::Neg, "neg", [](auto x) { return -x; }, [](auto d, auto, auto) { return -d; });
}

Tensor exp(const Tensor& a) {
  if (promote(a)) return cast(exp(up(a)), a.dtype());
  return unary_op(a, Op::Exp, "exp", [](auto x) { return std::exp(x); }, [](auto d, auto, auto y) { return d * y; });
}

Tensor log(const Tensor& a) {
  if (promote(a)) return cast(log(up(a)), a.dtype());
  return unary_op(a, Op::Log, "log", [](auto x) { return std::log(x); }, [](auto d, auto x, auto) { return d / x; });
}

Tensor sqrt(const Tensor& a) {
  if (promote(a)) return cast(sqrt(up(a)), a.dtype());
  return unary_op(a, Op::Sqrt, "sqrt", [](auto x) { return std::sqrt(x); }, [](auto d, auto, auto y) { return d / (2 * y); });
}

Tensor abs(const Tensor& a) {
  if (promote(a)) return cast(abs(up(a)), a.dtype());
  return unary_op(a, Op::Abs, "abs", [](auto x) { return std::abs(x); },
                  [](auto d, auto x, auto) { return x > 0 ? d : (x < 0 ? -d : d * 0); });
}

}  // namespace tr
