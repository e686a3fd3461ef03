// cuda_bf16.h (simulator): __nv_bfloat16 as 16 bits with CUDA's round-to-nearest-even conversions,
// the same bits as core/dtype.h's host conversions.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "trsim.h"

struct __nv_bfloat16 {
  uint16_t __x;
};
inline float __bfloat162float(__nv_bfloat16 h) { return tr::bf16_to_f32(h.__x); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return {tr::f32_to_bf16(f)}; }
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
