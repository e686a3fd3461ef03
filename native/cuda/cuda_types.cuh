// cuda_types.cuh: element types on the GPU. Storage types float, double, __nv_bfloat16, __half;
// every kernel computes in acc_t<S> (double for double, float otherwise: bf16/f16 accumulate in f32)
// and converts at the edges with load()/store(). Also the dtype dispatch and strided index maps.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/tensor.h"
#include "cuda/cuda_check.h"

namespace tr {

template <typename S> struct Acc { using type = float; };
template <> struct Acc<double> { using type = double; };
template <typename S> using acc_t = typename Acc<S>::type;

__device__ __forceinline__ float load(float x) { return x; }
__device__ __forceinline__ double load(double x) { return x; }
__device__ __forceinline__ float load(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float load(__half x) { return __half2float(x); }

template <typename S> __device__ __forceinline__ S store(acc_t<S> v);
template <> __device__ __forceinline__ float store<float>(float v) { return v; }
template <> __device__ __forceinline__ double store<double>(double v) { return v; }
// Round to nearest even, as dtype.h's f32_to_bf16 / f32_to_f16 on the host.
template <> __device__ __forceinline__ __nv_bfloat16 store<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half store<__half>(float v) { return __float2half_rn(v); }

// Storage type of a dtype for a kernel body: TR_CUDA_FLOAT_DISPATCH(dt, "op", S, { ... uses S ... }).
// int32 is not a float storage type: NOT_SUPPORTED naming the op, dtype and device.
#define TR_CUDA_FLOAT_DISPATCH(dt, opname, S, ...)                                                  \
  do {                                                                                              \
    switch (dt) {                                                                                   \
      case ::tr::DType::F32: { using S = float; __VA_ARGS__; break; }                               \
      case ::tr::DType::F64: { using S = double; __VA_ARGS__; break; }                              \
      case ::tr::DType::BF16: { using S = __nv_bfloat16; __VA_ARGS__; break; }                      \
      case ::tr::DType::F16: { using S = __half; __VA_ARGS__; break; }                              \
      default:                                                                                      \
        ::tr::fail(::tr::ErrorCode::NOT_SUPPORTED, opname, " on cuda does not support ", ::tr::dtype_name(dt)); \
    }                                                                                               \
  } while (0)

// Row-major index -> element offset of a strided view (rank <= kMaxRank), passed to kernels by value.
struct StridedMap {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  __host__ __device__ __forceinline__ int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t idx = i % shape[d];
      i /= shape[d];
      off += idx * strides[d];
    }
    return off;
  }
};

// The map of t seen with `shape` (NumPy broadcasting: zero strides on broadcast dims).
inline StridedMap strided_map(const Tensor& t, const Shape& shape) {
  StridedMap m;
  m.rank = static_cast<int>(shape.size());
  for (int i = 0; i < m.rank; ++i) {
    int j = i - (m.rank - t.rank());
    m.shape[i] = shape[i];
    m.strides[i] = (j >= 0 && t.shape()[j] == shape[i]) ? t.strides()[j] : 0;
  }
  return m;
}

template <typename S> inline S* ptr(const Tensor& t) { return t.defined() ? static_cast<S*>(t.raw()) : nullptr; }

}  // namespace tr

namespace tr {
// Math in the compute type. ops.h declares tr::exp, tr::log, ... on Tensors, which hide the global
// overloads inside namespace tr: kernels call these instead (float -> the f-suffixed functions).
namespace dm {
__device__ __forceinline__ float exp(float x) { return ::expf(x); }
__device__ __forceinline__ double exp(double x) { return ::exp(x); }
__device__ __forceinline__ float log(float x) { return ::logf(x); }
__device__ __forceinline__ double log(double x) { return ::log(x); }
__device__ __forceinline__ float log1p(float x) { return ::log1pf(x); }
__device__ __forceinline__ double log1p(double x) { return ::log1p(x); }
__device__ __forceinline__ float sqrt(float x) { return ::sqrtf(x); }
__device__ __forceinline__ double sqrt(double x) { return ::sqrt(x); }
__device__ __forceinline__ float fabs(float x) { return ::fabsf(x); }
__device__ __forceinline__ double fabs(double x) { return ::fabs(x); }
__device__ __forceinline__ float tanh(float x) { return ::tanhf(x); }
__device__ __forceinline__ double tanh(double x) { return ::tanh(x); }
__device__ __forceinline__ float erf(float x) { return ::erff(x); }
__device__ __forceinline__ double erf(double x) { return ::erf(x); }
__device__ __forceinline__ float pow(float x, float y) { return ::powf(x, y); }
__device__ __forceinline__ double pow(double x, double y) { return ::pow(x, y); }
__device__ __forceinline__ float fmax(float x, float y) { return ::fmaxf(x, y); }
__device__ __forceinline__ double fmax(double x, double y) { return ::fmax(x, y); }
}  // namespace dm
}  // namespace tr
