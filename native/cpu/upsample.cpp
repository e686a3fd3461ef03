// upsample.cpp: nearest-neighbour 2x upsampling, x (N, C, H, W) -> out (N, C, 2H, 2W),
// out[.., 2i + a, 2j + b] = x[.., i, j]. Backward: dx[.., i, j] = sum of dout over that 2x2 block.
// On cuda: native/cuda/upsample.cu.
#include "cpu/kernel_util.h"

namespace tr {

namespace {

// rows = N * C * H input rows of W values.
template <typename T>
void upsample_forward(T* out, const T* inp, int64_t rows, int64_t W) {  // (rows, 2, 2W), (rows, W)
  parallel_for(rows, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(4 * W, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* x = inp + r * W;
      T* y0 = out + r * 4 * W;
      T* y1 = y0 + 2 * W;
      for (int64_t j = 0; j < W; ++j) y0[2 * j] = y0[2 * j + 1] = x[j];
      std::copy(y0, y0 + 2 * W, y1);
    }
  });
}

template <typename T>
void upsample_backward(T* dinp, const T* dout, int64_t rows, int64_t W) {  // (rows, W), (rows, 2, 2W)
  parallel_for(rows, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(4 * W, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* d0 = dout + r * 4 * W;
      const T* d1 = d0 + 2 * W;
      T* dx = dinp + r * W;
      for (int64_t j = 0; j < W; ++j) dx[j] = (d0[2 * j] + d0[2 * j + 1]) + (d1[2 * j] + d1[2 * j + 1]);
    }
  });
}

}  // namespace

Tensor upsample_nearest2x(const Tensor& x_in) {
  check_float(x_in, "upsampleNearest2x", "x");
  check(x_in.rank() == 4, ErrorCode::SHAPE_MISMATCH, "Expected an input of shape [N, C, H, W] for upsampleNearest2x but received ",
        shape_str(x_in.shape()));
  if (promote(x_in)) return cast(upsample_nearest2x(up(x_in)), x_in.dtype());
  Tensor x = contiguous(x_in);
  const Shape& s = x.shape();
  int64_t rows = s[0] * s[1] * s[2], W = s[3];
  Tensor out = empty({s[0], s[1], 2 * s[2], 2 * s[3]}, x.dtype(), x.device());
#ifdef TR_HAVE_CUDA
  if (x.device() == Device::CUDA) cuda_upsample2x_forward(out, x, rows, W);
  else
#endif
  TR_FLOAT_DISPATCH(x.dtype(), T, { upsample_forward<T>(out.data<T>(), x.data<T>(), rows, W); });
  if (needs_grad({x_in})) {
    Shape xs = s;
    record(out, Op::Upsample2x, {x_in}, [xs, rows, W](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx = empty(xs, dout.dtype(), dout.device());
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) cuda_upsample2x_backward(dx, dout, rows, W);
      else
#endif
      TR_FLOAT_DISPATCH(dout.dtype(), T, { upsample_backward<T>(dx.data<T>(), dout.data<T>(), rows, W); });
      return {dx};
    });
  }
  return out;
}

}  // namespace tr
