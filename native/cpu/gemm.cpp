// gemm.cpp: matrix product dispatch: oneDNN for large float32 and all bf16 products when it is
// loaded, CBLAS when available, a blocked portable kernel otherwise.
#include "cpu/gemm.h"

#include "cpu/dnnl_runtime.h"

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"

#ifdef TR_HAVE_CBLAS
#include <cblas.h>
#endif

namespace tr {

bool gemm_uses_blas() {
#ifdef TR_HAVE_CBLAS
  return true;
#else
  return false;
#endif
}

const char* gemm_backend() { return dnnl_enabled() ? "onednn" : gemm_uses_blas() ? "openblas" : "portable"; }

namespace {
// Below this many multiply-adds oneDNN's per-call cost (memory objects, a stream wait: a few
// microseconds) outweighs its faster kernel, and OpenBLAS (or the portable kernel) is used.
constexpr int64_t kDnnlMinMacs = int64_t(1) << 18;

// oneDNN 2.6's f32 brgemm loses 15-20% to OpenBLAS on a row-major B whose rows are an odd multiple
// of 1024 floats apart (3072, 5120: cache-set aliasing in its packing), measured on both.
inline bool dnnl_slow_b(bool tb, int64_t ldb) {
#ifdef TR_HAVE_CBLAS
  return !tb && ldb >= 3072 && ldb % 1024 == 0 && (ldb / 1024) % 2 == 1;
#else
  (void)tb, (void)ldb;
  return false;
#endif
}
}  // namespace

bool gemm_bf16_native() { return dnnl_bf16_enabled(); }

bool gemm_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t* A, int64_t lda, const uint16_t* B,
               int64_t ldb, float beta, uint16_t* C, int64_t ldc, const uint16_t* bias) {
  if (M == 0 || N == 0) return true;
  if (K == 0) return false;  // nothing native to do; the caller's widened path fills C
  return gemm_dnnl(GemmType::BF16, GemmType::BF16, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, GemmType::BF16);
}

template <typename T>
void gemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  // Pack B as (K, N) row-major so the inner loop runs over contiguous N.
  std::vector<T> Bp;
  const T* Bk = B;
  int64_t ldbk = ldb;
  if (trans_b) {
    Bp.resize(static_cast<size_t>(K * N));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) Bp[k * N + n] = B[n * ldb + k];
    Bk = Bp.data();
    ldbk = N;
  }
  constexpr int64_t kBlockK = 256;
  parallel_for(M, std::max<int64_t>(1, 4096 / std::max<int64_t>(N * K / 64, 1)), [&](int64_t m0, int64_t m1) {
    std::vector<T> acc(static_cast<size_t>(N));
    for (int64_t m = m0; m < m1; ++m) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
        int64_t k1 = std::min(K, k0 + kBlockK);
        for (int64_t k = k0; k < k1; ++k) {
          T a = trans_a ? A[k * lda + m] : A[m * lda + k];
          if (a == T(0)) continue;
          const T* brow = Bk + k * ldbk;
          T* pacc = acc.data();
          for (int64_t n = 0; n < N; ++n) pacc[n] += a * brow[n];
        }
      }
      T* crow = C + m * ldc;
      if (beta == T(0)) for (int64_t n = 0; n < N; ++n) crow[n] = alpha * acc[n];
      else for (int64_t n = 0; n < N; ++n) crow[n] = alpha * acc[n] + beta * crow[n];
    }
  });
}

template <>
void gemm<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                 int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (M * N * K >= kDnnlMinMacs && !dnnl_slow_b(tb, ldb) &&
      gemm_dnnl(GemmType::F32, GemmType::F32, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr, GemmType::F32))
    return;
#ifdef TR_HAVE_CBLAS
  if (K > 0) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
                static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta, C,
                static_cast<int>(ldc));
    return;
  }
#endif
  gemm_portable<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                  const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
#ifdef TR_HAVE_CBLAS
  if (K > 0) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
                static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta, C,
                static_cast<int>(ldc));
    return;
  }
#endif
  gemm_portable<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm_portable<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                                   float, float*, int64_t);
template void gemm_portable<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                                    int64_t, double, double*, int64_t);

}  // namespace tr
