// cuda_check.h: turning CUDA runtime errors into tr::Error (never abort).
#pragma once
#include <cuda_runtime.h>

#include "core/errors.h"

#define TR_CUDA_CHECK(expr)                                                                         \
  do {                                                                                              \
    cudaError_t tr_err_ = (expr);                                                                   \
    if (tr_err_ != cudaSuccess) {                                                                   \
      cudaGetLastError();                                                                           \
      ::tr::fail(::tr::ErrorCode::CUDA_ERROR, #expr, " failed: ", cudaGetErrorString(tr_err_));     \
    }                                                                                               \
  } while (0)
