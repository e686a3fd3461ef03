// copy.cu: strided copies on the GPU (views to contiguous, casts between dtypes, concat and slice
// gradients write through views) and fills. Conversions follow tensor.cpp's host copy exactly:
// through double, float results rounded to nearest even, int32 by rint.
#include <cstring>

#include "cuda/cuda_ops.h"
#include "cuda/cuda_types.cuh"

namespace tr {

namespace {

__device__ __forceinline__ double load_any(const void* base, DType dt, int64_t i) {
  switch (dt) {
    case DType::F32: return static_cast<const float*>(base)[i];
    case DType::F64: return static_cast<const double*>(base)[i];
    case DType::BF16: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
    case DType::F16: return __half2float(static_cast<const __half*>(base)[i]);
    case DType::I32: return static_cast<const int32_t*>(base)[i];
  }
  return 0;
}

__device__ __forceinline__ void store_any(void* base, DType dt, int64_t i, double v) {
  switch (dt) {
    case DType::F32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::F64: static_cast<double*>(base)[i] = v; break;
    case DType::BF16: static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(static_cast<float>(v)); break;
    case DType::F16: static_cast<__half*>(base)[i] = __float2half_rn(static_cast<float>(v)); break;
    case DType::I32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(rint(v)); break;
  }
}

// dst[dmap(i)] = src[smap(i)], same dtype, moved as W-byte words.
template <typename W>
__global__ void copy_same_kernel(W* dst, const W* src, int64_t n, StridedMap dmap, StridedMap smap) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[dmap.offset(i)] = src[smap.offset(i)];
}

__global__ void copy_cast_kernel(void* dst, DType ddt, const void* src, DType sdt, int64_t n, StridedMap dmap, StridedMap smap) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store_any(dst, ddt, dmap.offset(i), load_any(src, sdt, smap.offset(i)));
}

template <typename W>
__global__ void fill_kernel(W* dst, int64_t n, W v) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = v;
}

// A map over the storage base (offset folded into the base pointer by the caller).
StridedMap own_map(const Tensor& t) {
  StridedMap m;
  m.rank = t.rank();
  for (int i = 0; i < m.rank; ++i) {
    m.shape[i] = t.shape()[i];
    m.strides[i] = t.strides()[i];
  }
  return m;
}

}  // namespace

void cuda_copy(const Tensor& dst, const Tensor& src) {
  check(dst.device() == Device::CUDA && src.device() == Device::CUDA, ErrorCode::INTERNAL, "cuda_copy needs two cuda tensors");
  int64_t n = src.numel();
  if (n == 0) return;
  cudaStream_t st = cuda_stream();
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    TR_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), static_cast<size_t>(n) * dtype_size(src.dtype()), cudaMemcpyDeviceToDevice, st));
    return;
  }
  StridedMap dm = own_map(dst), sm = own_map(src);
  unsigned int blocks = grid_for(n);
  if (dst.dtype() == src.dtype()) {
    switch (dtype_size(src.dtype())) {
      case 2: copy_same_kernel<uint16_t><<<blocks, kThreads, 0, st>>>(ptr<uint16_t>(dst), ptr<uint16_t>(src), n, dm, sm); break;
      case 4: copy_same_kernel<uint32_t><<<blocks, kThreads, 0, st>>>(ptr<uint32_t>(dst), ptr<uint32_t>(src), n, dm, sm); break;
      default: copy_same_kernel<uint64_t><<<blocks, kThreads, 0, st>>>(ptr<uint64_t>(dst), ptr<uint64_t>(src), n, dm, sm); break;
    }
    TR_CUDA_LAUNCHED("copy");
    return;
  }
  copy_cast_kernel<<<blocks, kThreads, 0, st>>>(dst.raw(), dst.dtype(), src.raw(), src.dtype(), n, dm, sm);
  TR_CUDA_LAUNCHED("cast");
}

void cuda_fill(const Tensor& dst, double value) {
  check(dst.is_contiguous(), ErrorCode::INTERNAL, "cuda_fill needs a contiguous tensor");
  int64_t n = dst.numel();
  if (n == 0) return;
  cudaStream_t st = cuda_stream();
  unsigned int blocks = grid_for(n);
  switch (dst.dtype()) {  // the bits the host's full() writes
    case DType::F32: {
      float v = static_cast<float>(value);
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      fill_kernel<uint32_t><<<blocks, kThreads, 0, st>>>(ptr<uint32_t>(dst), n, bits);
      break;
    }
    case DType::F64: {
      uint64_t bits;
      std::memcpy(&bits, &value, 8);
      fill_kernel<uint64_t><<<blocks, kThreads, 0, st>>>(ptr<uint64_t>(dst), n, bits);
      break;
    }
    case DType::BF16: fill_kernel<uint16_t><<<blocks, kThreads, 0, st>>>(ptr<uint16_t>(dst), n, f32_to_bf16(static_cast<float>(value))); break;
    case DType::F16: fill_kernel<uint16_t><<<blocks, kThreads, 0, st>>>(ptr<uint16_t>(dst), n, f32_to_f16(static_cast<float>(value))); break;
    case DType::I32: {
      int32_t v = static_cast<int32_t>(value);
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      fill_kernel<uint32_t><<<blocks, kThreads, 0, st>>>(ptr<uint32_t>(dst), n, bits);
      break;
    }
  }
  TR_CUDA_LAUNCHED("fill");
}

}  // namespace tr
