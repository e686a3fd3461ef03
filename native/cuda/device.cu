// device.cu: CUDA device plumbing: allocation (with a clean OUT_OF_MEMORY), host<->device copies,
// device facts. The caching allocator and streams belong to the CUDA-backend work.
#include <string>

#include "core/device.h"
#include "core/ops.h"
#include "cuda/cuda_check.h"

namespace tr {

namespace {
int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}
}  // namespace

bool cuda_available() { return device_count() > 0; }

std::string cuda_device_name() {
  if (!cuda_available()) return "";
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "";
  return prop.name;
}

void* cuda_alloc(size_t bytes) {
  if (!cuda_available())
    fail(ErrorCode::CUDA_UNAVAILABLE, "Expected a visible CUDA GPU for a cuda tensor but found none (this build has CUDA; the machine has no usable GPU)");
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    fail(ErrorCode::OUT_OF_MEMORY, "Could not allocate ", bytes, " bytes on the GPU (", free_b, " of ", total_b, " bytes free): ",
         cudaGetErrorString(err));
  }
  return p;
}

void cuda_free(void* p) {
  if (p) cudaFree(p);
}

void cuda_memset_zero(void* p, size_t bytes) { TR_CUDA_CHECK(cudaMemset(p, 0, bytes)); }

Tensor to_device(const Tensor& t, Device d) {
  if (d == t.device()) return t;
  if (d == Device::CUDA) {
    Tensor src = contiguous(t);
    Tensor out = empty(src.shape(), src.dtype(), Device::CUDA);
    size_t bytes = static_cast<size_t>(src.numel()) * dtype_size(src.dtype());
    if (bytes) TR_CUDA_CHECK(cudaMemcpy(out.raw(), src.raw(), bytes, cudaMemcpyHostToDevice));
    return out;
  }
  check(t.is_contiguous(), ErrorCode::NOT_SUPPORTED, "Expected a contiguous cuda tensor to copy to the host");
  Tensor out = empty(t.shape(), t.dtype(), Device::CPU);
  size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
  if (bytes) TR_CUDA_CHECK(cudaMemcpy(out.raw(), t.raw(), bytes, cudaMemcpyDeviceToHost));
  return out;
}

bool cuda_supports(Op op, DType dtype) {
  return op == Op::Add && (dtype == DType::F32 || dtype == DType::F64);
}

}  // namespace tr
