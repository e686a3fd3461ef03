// unary_op.h: the pattern every elementwise unary op follows: a forward f(x) and a backward
// g(dout, x, y) -> dx over contiguous buffers, recorded with x (input) and y (output) saved.
// The same record serves both devices; only the loops branch to the CUDA kernels.
#pragma once
#include "cpu/kernel_util.h"

namespace tr {

// Vectorised float32 loops an op may bring (the scalar f and g stay the reference and serve the rest).
struct UnaryF32Kernels {
  void (*forward)(const float* x, float* y, int64_t n);
  void (*backward)(const float* dout, const float* x, float* dx, int64_t n);
};

// On cuda, f and g run as native/cuda/unary.cu's kernels of `op` (lo, hi: clamp's bounds).
template <typename Fwd, typename Bwd>
Tensor unary_op(const Tensor& a_in, Op op, const char* name, Fwd f, Bwd g, double lo = 0, double hi = 0,
                const UnaryF32Kernels* fast = nullptr) {
  check_float(a_in, name, "a");
  Tensor a = contiguous(a_in);
  Tensor out;
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) out = cuda_unary(op, a, lo, hi);
  else
#endif
  if (fast && a.dtype() == DType::F32) {
    out = empty(a.shape(), DType::F32, Device::CPU);
    fast->forward(a.data<float>(), out.data<float>(), a.numel());
  } else {
    TR_FLOAT_DISPATCH(a.dtype(), T, { out = unary_new<T>(a, [&](T x) { return static_cast<T>(f(x)); }); });
  }
  if (needs_grad({a_in})) {
    Tensor x = a.detach(), y = out.detach();
    record(out, op, {a_in}, [x, y, g, op, lo, hi, fast](const Tensor& dout) -> std::vector<Tensor> {
#ifdef TR_HAVE_CUDA
      if (x.device() == Device::CUDA) return {cuda_unary_backward(op, dout, x, y, lo, hi)};
#endif
      (void)op, (void)lo, (void)hi;
      Tensor dx = empty(x.shape(), x.dtype(), x.device());
      if (fast && x.dtype() == DType::F32) {
        fast->backward(dout.data<float>(), x.data<float>(), dx.data<float>(), x.numel());
        return {dx};
      }
      TR_FLOAT_DISPATCH(x.dtype(), T, {
        const T* pd = dout.data<T>();
        const T* px = x.data<T>();
        const T* py = y.data<T>();
        T* po = dx.data<T>();
        parallel_for(x.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) po[i] = static_cast<T>(g(pd[i], px[i], py[i]));
        });
      });
      return {dx};
    });
  }
  return out;
}

}  // namespace tr
