// gemm.h: C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, row-major with leading dims.
// float32 through oneDNN when it is loaded and the product is large enough to repay its call,
// else CBLAS (OpenBLAS) when the build found one, else a portable blocked kernel; float64 through
// CBLAS or the portable kernel; bfloat16 through oneDNN (float32 accumulation) where the CPU computes
// bf16 natively.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tr {

// How the last two dims of t go to gemm: as-is (row-major, trans false), transposed, or not at all
// (false: it needs a copy); ld is the leading dimension. matmul.cpp and native/cuda/matmul.cu share it.
bool matrix_layout(const Tensor& t, bool& trans, int64_t& ld);

bool gemm_uses_blas();
// "onednn", "openblas" or "portable": what computes a large float32 product.
const char* gemm_backend();

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

// The portable kernel, always compiled: the reference for the BLAS path in tests.
template <typename T>
void gemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// bfloat16 operands and result (uint16_t storage), float32 accumulation, optional bf16 bias (N).
// Returns false, computing nothing, where the CPU or the build has no native bf16 product:
// the caller then widens to float32.
bool gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t* A, int64_t lda,
               const uint16_t* B, int64_t ldb, float beta, uint16_t* C, int64_t ldc, const uint16_t* bias = nullptr);
bool gemm_bf16_native();

// oneDNN's matmul (dnnl_matmul.cpp): any mix of f32/bf16 operands and result, optional bias (N);
// false when oneDNN is not loaded (or bf16 was asked of a CPU without it).
enum class GemmType { F32 = 0, BF16 = 1 };
bool gemm_dnnl(GemmType ab, GemmType c, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
               int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc, const void* bias, GemmType bias_t);

}  // namespace tr
