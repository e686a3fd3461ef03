// linear.cpp: y (..., OUT) = x (..., IN) @ weight (OUT, IN)^T + bias (OUT).
// Backward: dx = dy @ W, dW = dy^T @ x, db = sum of dy over rows.
// bf16 runs natively (gemm_bf16: oneDNN, f32 accumulation, bias in the epilogue) where the CPU can.
// On cuda the three products are cuda_gemm calls (cuBLAS or the tiled kernel), any float dtype.
#include "cpu/gemm.h"
#include "cpu/kernel_util.h"

namespace tr {

namespace {
// The native bf16 form: the same products through gemm_bf16, the bias added in its epilogue.
Tensor linear_bf16(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
  Tensor x = contiguous(x_in), w = contiguous(w_in), bias = b_in.defined() ? contiguous(b_in) : Tensor();
  int64_t IN = w.shape()[1], OUT = w.shape()[0], rows = x.numel() / IN;
  Shape os = x.shape();
  os.back() = OUT;
  Tensor out = empty(os, x.dtype(), x.device());
  auto bf = [](const Tensor& t) { return t.defined() ? t.data<uint16_t>() : nullptr; };
  auto run = [](bool ok) { check(ok, ErrorCode::INTERNAL, "Expected a native bf16 product for linear but none is available"); };
  if (rows > 0) run(gemm_bf16(false, true, rows, OUT, IN, 1.0f, bf(x), IN, bf(w), IN, 0.0f, bf(out), OUT, bf(bias)));
  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    Tensor sx = gw ? x.detach() : Tensor(), sw = gx ? w.detach() : Tensor();
    Shape xs = x_in.shape();
    record(out, Op::Linear, {x_in, w_in, b_in}, [sx, sw, xs, gx, gw, gb, rows, IN, OUT, bf, run](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx, dw, db;
      if (gx) {
        dx = empty(xs, dout.dtype(), dout.device());
        if (rows > 0) run(gemm_bf16(false, false, rows, IN, OUT, 1.0f, bf(dout), OUT, bf(sw), IN, 0.0f, bf(dx), IN));
      }
      if (gw) {
        dw = rows > 0 ? empty({OUT, IN}, dout.dtype(), dout.device()) : zeros({OUT, IN}, dout.dtype(), dout.device());
        if (rows > 0) run(gemm_bf16(true, false, OUT, IN, rows, 1.0f, bf(dout), OUT, bf(sx), IN, 0.0f, bf(dw), IN));
      }
      if (gb) db = sum(reshape(dout, {rows, OUT}), {0}, false);
      return {dx, dw, db};
    });
  }
  return out;
}
}  // namespace

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
  check_float(x_in, "linear", "x");
  check_float(w_in, "linear", "weight");
  check_same_dtype(x_in, w_in, "linear");
  if (b_in.defined()) check_same_dtype(x_in, b_in, "linear");
  Device dev = op_device("linear", x_in, w_in, b_in);
  check(w_in.rank() == 2, ErrorCode::SHAPE_MISMATCH, "Expected a weight of shape [out, in] for linear but received ", shape_str(w_in.shape()));
  check(x_in.rank() >= 1 && x_in.shape().back() == w_in.shape()[1], ErrorCode::SHAPE_MISMATCH,
        "Expected an input whose last dimension is ", w_in.shape()[1], " for linear but received ", shape_str(x_in.shape()));
  check(!b_in.defined() || (b_in.rank() == 1 && b_in.shape()[0] == w_in.shape()[0]), ErrorCode::SHAPE_MISMATCH,
        "Expected a bias of shape [", w_in.shape()[0], "] for linear but received ", b_in.defined() ? shape_str(b_in.shape()) : "none");
  // mixed precision (core/autograd.h): on the cpu where oneDNN has bf16 products; on cuda always (tensor cores)
  if (autocast_bf16(x_in.dtype(), dev) && (dev == Device::CUDA || gemm_bf16_native()) && w_in.shape()[1] > 0)
    return cast(linear(cast(x_in, DType::BF16), cast(w_in, DType::BF16), b_in.defined() ? cast(b_in, DType::BF16) : Tensor()), DType::F32);
  bool native_bf16 = dev == Device::CPU && x_in.dtype() == DType::BF16 && gemm_bf16_native() && w_in.shape()[1] > 0;
  if (promote(x_in) && !native_bf16) return cast(linear(up(x_in), up(w_in), up(b_in)), x_in.dtype());
  if (native_bf16) return linear_bf16(x_in, w_in, b_in);

  Tensor x = contiguous(x_in), w = contiguous(w_in), bias = b_in.defined() ? contiguous(b_in) : Tensor();
  int64_t IN = w.shape()[1], OUT = w.shape()[0], rows = x.numel() / std::max<int64_t>(IN, 1);
  Shape os = x.shape();
  os.back() = OUT;
  Tensor out = empty(os, x.dtype(), x.device());
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA) {  // out = bias rows, then out = x @ W^T + out
    if (bias.defined()) copy_into(out, broadcast_view(bias, os));
    cuda_gemm(false, true, rows, OUT, IN, x, IN, w, IN, bias.defined() ? 1.0 : 0.0, out, OUT);
  } else
#endif
  TR_FLOAT_DISPATCH(x.dtype(), T, {
    T* po = out.data<T>();
    if (bias.defined()) {
      const T* pb = bias.data<T>();
      parallel_for(rows, 64, [&](int64_t s, int64_t e) {
        for (int64_t r = s; r < e; ++r) std::copy(pb, pb + OUT, po + r * OUT);
      });
    }
    gemm<T>(false, true, rows, OUT, IN, T(1), x.data<T>(), IN, w.data<T>(), IN, bias.defined() ? T(1) : T(0), po, OUT);
  });

  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    Tensor sx = gw ? x.detach() : Tensor(), sw = gx ? w.detach() : Tensor();
    Shape xs = x_in.shape();
    record(out, Op::Linear, {x_in, w_in, b_in}, [sx, sw, xs, gx, gw, gb, rows, IN, OUT](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx, dw, db;
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) {
        if (gx) {
          dx = empty(xs, dout.dtype(), dout.device());
          cuda_gemm(false, false, rows, IN, OUT, dout, OUT, sw, IN, 0.0, dx, IN);  // dx = dy @ W
        }
        if (gw) {
          dw = empty({OUT, IN}, dout.dtype(), dout.device());
          cuda_gemm(true, false, OUT, IN, rows, dout, OUT, sx, IN, 0.0, dw, IN);  // dW = dy^T @ x
        }
        if (gb) db = sum(reshape(dout, {rows, OUT}), {0}, false);
        return {dx, dw, db};
      }
#endif
      TR_FLOAT_DISPATCH(dout.dtype(), T, {
        const T* pd = dout.data<T>();
        if (gx) {
          dx = empty(xs, dout.dtype(), dout.device());
          gemm<T>(false, false, rows, IN, OUT, T(1), pd, OUT, sw.data<T>(), IN, T(0), dx.data<T>(), IN);
        }
        if (gw) {
          dw = empty({OUT, IN}, dout.dtype(), dout.device());
          gemm<T>(true, false, OUT, IN, rows, T(1), pd, OUT, sx.data<T>(), IN, T(0), dw.data<T>(), IN);
        }
        if (gb) db = sum(reshape(dout, {rows, OUT}), {0}, false);
      });
      return {dx, dw, db};
    });
  }
  return out;
}

}  // namespace tr
