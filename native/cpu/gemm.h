// gemm.h: C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, row-major with leading dims.
// Through CBLAS (OpenBLAS) when the build found one, else a portable blocked kernel.
#pragma once
#include <cstdint>

namespace tr {

bool gemm_uses_blas();

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

// The portable kernel, always compiled: the reference for the BLAS path in tests.
template <typename T>
void gemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace tr
