// avg_pool.cpp: x (N, C, H, W) -> out (N, C, Ho, Wo), the mean of each kernel x kernel window at
// stride `stride`, no padding: Ho = (H - kernel) / stride + 1. Backward spreads dout / kernel^2 over
// each window (overlapping windows add). One task per (n, c) plane, so no two tasks write one value.
// On cuda: native/cuda/avg_pool.cu.
#include "cpu/kernel_util.h"

namespace tr {

namespace {

struct PoolGeom {
  int64_t planes = 0, H = 0, W = 0, Ho = 0, Wo = 0, k = 1, s = 1;
};

template <typename T>
void avgpool_forward(T* out, const T* inp, const PoolGeom& g) {  // (planes, Ho, Wo), (planes, H, W)
  double scale = 1.0 / static_cast<double>(g.k * g.k);
  parallel_for(g.planes, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(g.H * g.W, 1)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* x = inp + p * g.H * g.W;
      T* y = out + p * g.Ho * g.Wo;
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          const T* win = x + oh * g.s * g.W + ow * g.s;
          double acc = 0;
          for (int64_t i = 0; i < g.k; ++i)
            for (int64_t j = 0; j < g.k; ++j) acc += win[i * g.W + j];
          y[oh * g.Wo + ow] = static_cast<T>(acc * scale);
        }
    }
  });
}

template <typename T>
void avgpool_backward(T* dinp, const T* dout, const PoolGeom& g) {  // (planes, H, W), (planes, Ho, Wo)
  T scale = static_cast<T>(1.0 / static_cast<double>(g.k * g.k));
  parallel_for(g.planes, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(g.H * g.W, 1)), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* dx = dinp + p * g.H * g.W;
      const T* dy = dout + p * g.Ho * g.Wo;
      std::fill(dx, dx + g.H * g.W, T(0));
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          T v = dy[oh * g.Wo + ow] * scale;
          T* win = dx + oh * g.s * g.W + ow * g.s;
          for (int64_t i = 0; i < g.k; ++i)
            for (int64_t j = 0; j < g.k; ++j) win[i * g.W + j] += v;
        }
    }
  });
}

}  // namespace

Tensor avg_pool2d(const Tensor& x_in, int64_t kernel, int64_t stride) {
  check_float(x_in, "avgPool2d", "x");
  check(x_in.rank() == 4, ErrorCode::SHAPE_MISMATCH, "Expected an input of shape [N, C, H, W] for avgPool2d but received ",
        shape_str(x_in.shape()));
  check(kernel >= 1, ErrorCode::INVALID_ARGUMENT, "Expected kernel >= 1 for avgPool2d but received ", kernel);
  check(stride >= 1, ErrorCode::INVALID_ARGUMENT, "Expected stride >= 1 for avgPool2d but received ", stride);
  const Shape& s = x_in.shape();
  check(s[2] >= kernel && s[3] >= kernel, ErrorCode::SHAPE_MISMATCH, "Expected an input of at least ", kernel, "x", kernel,
        " pixels for avgPool2d with kernel ", kernel, " but received ", shape_str(s));
  if (promote(x_in)) return cast(avg_pool2d(up(x_in), kernel, stride), x_in.dtype());
  Tensor x = contiguous(x_in);
  PoolGeom g;
  g.planes = s[0] * s[1], g.H = s[2], g.W = s[3], g.k = kernel, g.s = stride;
  g.Ho = (g.H - kernel) / stride + 1, g.Wo = (g.W - kernel) / stride + 1;
  Tensor out = empty({s[0], s[1], g.Ho, g.Wo}, x.dtype(), x.device());
#ifdef TR_HAVE_CUDA
  if (x.device() == Device::CUDA) cuda_avgpool_forward(out, x, g.planes, g.H, g.W, g.Ho, g.Wo, g.k, g.s);
  else
#endif
  TR_FLOAT_DISPATCH(x.dtype(), T, { avgpool_forward<T>(out.data<T>(), x.data<T>(), g); });
  if (needs_grad({x_in})) {
    Shape xs = s;
    record(out, Op::AvgPool2d, {x_in}, [xs, g](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx = empty(xs, dout.dtype(), dout.device());
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) cuda_avgpool_backward(dx, dout, g.planes, g.H, g.W, g.Ho, g.Wo, g.k, g.s);
      else
#endif
      TR_FLOAT_DISPATCH(dout.dtype(), T, { avgpool_backward<T>(dx.data<T>(), dout.data<T>(), g); });
      return {dx};
    });
  }
  return out;
}

}  // namespace tr
