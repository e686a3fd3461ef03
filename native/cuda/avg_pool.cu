// avg_pool.cu: x (planes, H, W) -> out (planes, Ho, Wo), the mean of each k x k window at stride s,
// no padding, and its backward, as avg_pool.cpp. The backward runs a thread per input value and adds
// the windows that cover it in the CPU's order (no atomics, the same sums).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {
struct PoolGeom {
  int64_t planes, H, W, Ho, Wo, k, s;
};

template <typename S>
__global__ void avgpool_forward_kernel(S* out, const S* inp, PoolGeom g) {
  double scale = 1.0 / static_cast<double>(g.k * g.k);
  TR_GRID_STRIDE(o, g.planes * g.Ho * g.Wo) {
    int64_t p = o / (g.Ho * g.Wo), oh = (o / g.Wo) % g.Ho, ow = o % g.Wo;
    const S* win = inp + p * g.H * g.W + oh * g.s * g.W + ow * g.s;
    double acc = 0;
    for (int64_t i = 0; i < g.k; ++i)
      for (int64_t j = 0; j < g.k; ++j) acc += static_cast<double>(load(win[i * g.W + j]));
    out[o] = store<S>(static_cast<acc_t<S>>(acc * scale));
  }
}

template <typename S>
__global__ void avgpool_backward_kernel(S* dinp, const S* dout, PoolGeom g) {
  using C = acc_t<S>;
  C scale = static_cast<C>(1.0 / static_cast<double>(g.k * g.k));
  TR_GRID_STRIDE(idx, g.planes * g.H * g.W) {
    int64_t p = idx / (g.H * g.W), h = (idx / g.W) % g.H, w = idx % g.W;
    // windows oh with oh*s <= h < oh*s + k, likewise ow
    int64_t oh0 = h >= g.k ? (h - g.k) / g.s + 1 : 0, oh1 = min(h / g.s, g.Ho - 1);
    int64_t ow0 = w >= g.k ? (w - g.k) / g.s + 1 : 0, ow1 = min(w / g.s, g.Wo - 1);
    const S* dy = dout + p * g.Ho * g.Wo;
    C acc = 0;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) acc += load(dy[oh * g.Wo + ow]) * scale;
    dinp[idx] = store<S>(acc);
  }
}
}  // namespace

void cuda_avgpool_forward(const Tensor& out, const Tensor& x, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t k, int64_t s) {
  int64_t n = planes * Ho * Wo;
  if (n == 0) return;
  PoolGeom g{planes, H, W, Ho, Wo, k, s};
  TR_CUDA_FLOAT_DISPATCH(x.dtype(), "avgPool2d", S, {
    avgpool_forward_kernel<S><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<S>(out), ptr<S>(x), g);
  });
  TR_CUDA_LAUNCHED("avgPool2d");
}

void cuda_avgpool_backward(const Tensor& dx, const Tensor& dout, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t k,
                           int64_t s) {
  int64_t n = planes * H * W;
  if (n == 0) return;
  PoolGeom g{planes, H, W, Ho, Wo, k, s};
  TR_CUDA_FLOAT_DISPATCH(dx.dtype(), "avgPool2d backward", S, {
    avgpool_backward_kernel<S><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<S>(dx), ptr<S>(dout), g);
  });
  TR_CUDA_LAUNCHED("avgPool2d backward");
}

}  // namespace tr
