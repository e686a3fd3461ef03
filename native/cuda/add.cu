// add.cu: elementwise add with NumPy broadcasting on the GPU (float32, float64): out = a + b.
// The first CUDA op; the rest of the op set follows in the CUDA-backend work.
#include "core/ops.h"
#include "core/autograd.h"
#include "cuda/cuda_check.h"

namespace tr {

namespace {
struct Strides6 {
  int64_t shape[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
  int rank;
};

template <typename T>
__global__ void add_kernel(T* out, const T* a, const T* b, int64_t n, Strides6 s) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = s.rank - 1; d >= 0; --d) {
      int64_t idx = rem % s.shape[d];
      rem /= s.shape[d];
      oa += idx * s.sa[d];
      ob += idx * s.sb[d];
    }
    out[i] = a[oa] + b[ob];
  }
}
}  // namespace

Tensor cuda_add(const Tensor& a, const Tensor& b) {
  check(a.device() == Device::CUDA && b.device() == Device::CUDA, ErrorCode::DEVICE,
        "Expected both tensors of add on one device but received ", device_name(a.device()), " and ", device_name(b.device()));
  check_same_dtype(a, b, "add");
  check(a.dtype() == DType::F32 || a.dtype() == DType::F64, ErrorCode::NOT_SUPPORTED, "add on cuda supports float32 and float64 so far, not ",
        dtype_name(a.dtype()));
  check(!needs_grad({a, b}), ErrorCode::NOT_SUPPORTED, "autograd on cuda tensors is not built yet (the CUDA backend work adds it)");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "add");
  Tensor out = empty(shape, a.dtype(), Device::CUDA);
  int64_t n = out.numel();
  if (n == 0) return out;
  Strides6 s{};
  s.rank = static_cast<int>(shape.size());
  for (int i = 0; i < s.rank; ++i) {
    s.shape[i] = shape[i];
    int ja = i - (s.rank - a.rank()), jb = i - (s.rank - b.rank());
    s.sa[i] = (ja >= 0 && a.shape()[ja] == shape[i]) ? a.strides()[ja] : 0;
    s.sb[i] = (jb >= 0 && b.shape()[jb] == shape[i]) ? b.strides()[jb] : 0;
  }
  int threads = 256;
  int blocks = static_cast<int>(std::min<int64_t>((n + threads - 1) / threads, 65535));
  if (a.dtype() == DType::F32)
    add_kernel<float><<<blocks, threads>>>(out.data<float>(), a.data<float>(), b.data<float>(), n, s);
  else
    add_kernel<double><<<blocks, threads>>>(out.data<double>(), a.data<double>(), b.data<double>(), n, s);
  TR_CUDA_CHECK(cudaGetLastError());
  TR_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

}  // namespace tr
