// upsample.cu: nearest-neighbour 2x upsampling, x (rows = N*C*H, W) -> out (rows, 2, 2W), and its
// backward (the sum of each 2x2 block), as upsample.cpp.
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {
template <typename S>
__global__ void upsample_forward_kernel(S* out, const S* inp, int64_t rows, int64_t W) {
  TR_GRID_STRIDE(k, rows * 4 * W) {
    int64_t r = k / (4 * W), j = (k % (2 * W)) / 2;
    out[k] = inp[r * W + j];
  }
}

template <typename S>
__global__ void upsample_backward_kernel(S* dinp, const S* dout, int64_t rows, int64_t W) {
  using C = acc_t<S>;
  TR_GRID_STRIDE(k, rows * W) {
    int64_t r = k / W, j = k % W;
    const S* d0 = dout + r * 4 * W;
    const S* d1 = d0 + 2 * W;
    dinp[k] = store<S>((load(d0[2 * j]) + load(d0[2 * j + 1])) + (load(d1[2 * j]) + load(d1[2 * j + 1])));
  }
}
}  // namespace

void cuda_upsample2x_forward(const Tensor& out, const Tensor& x, int64_t rows, int64_t W) {
  if (rows * W == 0) return;
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), "upsampleNearest2x", S, {
    upsample_forward_kernel<S><<<grid_for(rows * 4 * W), kThreads, 0, cuda_stream()>>>(ptr<S>(out), ptr<S>(x), rows, W);
  });
  TR_CUDA_LAUNCHED("upsampleNearest2x");
}

void cuda_upsample2x_backward(const Tensor& dx, const Tensor& dout, int64_t rows, int64_t W) {
  if (rows * W == 0) return;
  TR_CUDA_FLOAT_DISPATCH(dx.dtype(), "upsampleNearest2x backward", S, {
    upsample_backward_kernel<S><<<grid_for(rows * W), kThreads, 0, cuda_stream()>>>(ptr<S>(dx), ptr<S>(dout), rows, W);
  });
  TR_CUDA_LAUNCHED("upsampleNearest2x backward");
}

}  // namespace tr
