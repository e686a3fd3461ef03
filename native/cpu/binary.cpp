// binary.cpp: add, sub, mul, div, pow with NumPy broadcasting; backward sums over broadcast dims.
// The forward's compute runs on the inputs' device (native/cuda/binary.cu for cuda, computing
// bf16/f16 in f32 directly); the recorded backward is shared and calls these same ops.
#include "cpu/kernel_util.h"

namespace tr {

namespace {
// The forward of `op`, or an undefined tensor when the cpu path must promote bf16/f16 to f32 first.
// Mixed bf16/f16 operands are promoted by the caller on either device.
template <typename F>
Tensor binary_forward(const Tensor& a, const Tensor& b, Op op, const char* name, F f) {
  [[maybe_unused]] Device dev = op_device(name, a, b);
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA && a.dtype() == b.dtype()) {
    check_float(a, name, "a");
    return cuda_binary(op, a, b);
  }
#endif
  if (lowp(a) || lowp(b)) return Tensor();
  check_float(a, name, "a");
  check_float(b, name, "b");
  check_same_dtype(a, b, name);
  Tensor out;
  TR_FLOAT_DISPATCH(a.dtype(), T, { out = binary_new<T>(a, b, [&](T x, T y) { return static_cast<T>(f(x, y)); }); });
  return out;
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, Op::Add, "add", [](auto x, auto y) { return x + y; });
  if (!out.defined()) return cast(add(up(a), up(b)), a.dtype());
  if (needs_grad({a, b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, Op::Add, {a, b}, [sa, sb](const Tensor& dout) -> std::vector<Tensor> {
      return {reduce_to_shape(dout, sa), reduce_to_shape(dout, sb)};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, Op::Sub, "sub", [](auto x, auto y) { return x - y; });
  if (!out.defined()) return cast(sub(up(a), up(b)), a.dtype());
  if (needs_grad({a, b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, Op::Sub, {a, b}, [sa, sb](const Tensor& dout) -> std::vector<Tensor> {
      return {reduce_to_shape(dout, sa), reduce_to_shape(neg(dout), sb)};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, Op::Mul, "mul", [](auto x, auto y) { return x * y; });
  if (!out.defined()) return cast(mul(up(a), up(b)), a.dtype());
  if (needs_grad({a, b})) {
    bool ga = a.requires_grad(), gb = b.requires_grad();
    Tensor sa = gb ? a.detach() : Tensor(), sb = ga ? b.detach() : Tensor();
    Shape sha = a.shape(), shb = b.shape();
    record(out, Op::Mul, {a, b}, [sa, sb, sha, shb, ga, gb](const Tensor& dout) -> std::vector<Tensor> {
      return {ga ? reduce_to_shape(mul(dout, sb), sha) : Tensor(), gb ? reduce_to_shape(mul(dout, sa), shb) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, Op::Div, "div", [](auto x, auto y) { return x / y; });
  if (!out.defined()) return cast(div(up(a), up(b)), a.dtype());
  if (needs_grad({a, b})) {
    bool ga = a.requires_grad(), gb = b.requires_grad();
    Tensor sb = b.detach(), so = gb ? out.detach() : Tensor();
    Shape sha = a.shape(), shb = b.shape();
    record(out, Op::Div, {a, b}, [sb, so, sha, shb, ga, gb](const Tensor& dout) -> std::vector<Tensor> {
      Tensor da = div(dout, sb);  // d(a/b)/da = 1/b
      // d(a/b)/db = -(a/b)/b = -out/b
      Tensor db = gb ? reduce_to_shape(neg(mul(da, so)), shb) : Tensor();
      return {ga ? reduce_to_shape(da, sha) : Tensor(), db};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, Op::Pow, "pow", [](auto x, auto y) { return std::pow(x, y); });
  if (!out.defined()) return cast(pow(up(a), up(b)), a.dtype());
  if (needs_grad({a, b})) {
    bool ga = a.requires_grad(), gb = b.requires_grad();
    Tensor sa = a.detach(), sb = b.detach(), so = out.detach();
    Shape sha = a.shape(), shb = b.shape();
    record(out, Op::Pow, {a, b}, [sa, sb, so, sha, shb, ga, gb](const Tensor& dout) -> std::vector<Tensor> {
      Tensor da, db;
      if (ga) da = reduce_to_shape(mul(dout, mul(sb, pow(sa, add_scalar(sb, -1.0)))), sha);  // b a^(b-1)
      if (gb) db = reduce_to_shape(mul(dout, mul(so, log(sa))), shb);                        // a^b ln a
      return {da, db};
    });
  }
  return out;
}

}  // namespace tr
