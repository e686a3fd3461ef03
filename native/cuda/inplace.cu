// inplace.cu: in-place updates outside the graph on the GPU (gradient accumulation, optimizers):
// dst += alpha * src and dst *= s, computed as inplace.cpp (the scalar rounded to the compute type).
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {
template <typename S>
__global__ void add_inplace_kernel(S* dst, const S* src, int64_t n, acc_t<S> alpha) {
  TR_GRID_STRIDE(i, n) dst[i] = store<S>(load(dst[i]) + alpha * load(src[i]));
}
template <typename S>
__global__ void mul_inplace_kernel(S* dst, int64_t n, acc_t<S> s) {
  TR_GRID_STRIDE(i, n) dst[i] = store<S>(load(dst[i]) * s);
}
}  // namespace

void cuda_add_inplace(const Tensor& dst, const Tensor& src, double alpha) {
  int64_t n = dst.numel();
  if (n == 0) return;
  TR_CUDA_FLOAT_DISPATCH(dst.dtype(), "addInplace", S, {
    add_inplace_kernel<S><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<S>(dst), ptr<S>(src), n, static_cast<acc_t<S>>(alpha));
  });
  TR_CUDA_LAUNCHED("addInplace");
}

void cuda_mul_scalar_inplace(const Tensor& dst, double s) {
  int64_t n = dst.numel();
  if (n == 0) return;
  TR_CUDA_FLOAT_DISPATCH(dst.dtype(), "mulScalarInplace", S, {
    mul_inplace_kernel<S><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<S>(dst), n, static_cast<acc_t<S>>(s));
  });
  TR_CUDA_LAUNCHED("mulScalarInplace");
}

}  // namespace tr
