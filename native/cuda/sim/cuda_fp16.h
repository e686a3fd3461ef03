// cuda_fp16.h (simulator): __half as 16 bits with CUDA's round-to-nearest-even conversions, the same
// bits as core/dtype.h's host conversions.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "trsim.h"

struct __half {
  uint16_t __x;
};
inline float __half2float(__half h) { return tr::f16_to_f32(h.__x); }
inline __half __float2half_rn(float f) { return {tr::f32_to_f16(f)}; }
inline __half __float2half(float f) { return __float2half_rn(f); }
