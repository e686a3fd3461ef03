// matmul.cu: batched matrix products on the GPU. With cuBLAS (TR_HAVE_CUBLAS): one
// cublasGemmStridedBatchedEx call, bf16/f16 on tensor cores with float32 accumulation, float32 in
// full float32 (TREEREWARD_TF32=1 allows TF32 tensor cores), float64 in float64. Without it (or with
// TREEREWARD_CUDA_GEMM=tiled, or where cublasCreate fails): a tiled shared-memory kernel (16x16 tiles,
// accumulation in acc_t). Row-major C = op(A) op(B) is computed
// as the column-major C^T = op(B)^T op(A)^T, so no operand is copied for a transposed view.
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef TR_HAVE_CUBLAS
#include <cublas_v2.h>
#endif

#include "cpu/gemm.h"
#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"

namespace tr {

namespace {

// One strided batch of products: C_b (M, N) = op(A_b) @ op(B_b) + beta * C_b for b < batch.
struct GemmBatch {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0;
  const void* A = nullptr;
  int64_t lda = 0, sa = 0;  // sa, sb, sc: elements between batches (0: shared by every batch)
  const void* B = nullptr;
  int64_t ldb = 0, sb = 0;
  void* C = nullptr;
  int64_t ldc = 0, sc = 0;
  int64_t batch = 1;
  double beta = 0;
};

constexpr int kTile = 16;

template <typename S>
__global__ void gemm_tiled_kernel(GemmBatch g, int64_t batch0) {
  using C = acc_t<S>;
  __shared__ C As[kTile][kTile + 1];
  __shared__ C Bs[kTile][kTile + 1];
  int64_t b = batch0 + blockIdx.z;
  const S* A = static_cast<const S*>(g.A) + b * g.sa;
  const S* B = static_cast<const S*>(g.B) + b * g.sb;
  S* Cm = static_cast<S*>(g.C) + b * g.sc;
  int ty = threadIdx.y, tx = threadIdx.x;
  int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + ty, col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  C acc = 0;
  for (int64_t k0 = 0; k0 < g.K; k0 += kTile) {
    // A tile (rows of C, k) and B tile (k, cols of C); op() read through the leading dims.
    int64_t ar = static_cast<int64_t>(blockIdx.y) * kTile + ty, ak = k0 + tx;
    As[ty][tx] = (ar < g.M && ak < g.K) ? load(g.ta ? A[ak * g.lda + ar] : A[ar * g.lda + ak]) : C(0);
    int64_t bk = k0 + ty, bc = static_cast<int64_t>(blockIdx.x) * kTile + tx;
    Bs[ty][tx] = (bk < g.K && bc < g.N) ? load(g.tb ? B[bc * g.ldb + bk] : B[bk * g.ldb + bc]) : C(0);
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; ++k) acc += As[ty][k] * Bs[k][tx];
    __syncthreads();
  }
  if (row < g.M && col < g.N) {
    S* c = Cm + row * g.ldc + col;
    *c = store<S>(g.beta != 0 ? acc + static_cast<C>(g.beta) * load(*c) : acc);
  }
}

void gemm_tiled(const GemmBatch& g, DType dt) {
  int64_t gx = (g.N + kTile - 1) / kTile, gy = (g.M + kTile - 1) / kTile;
  check(gx <= INT_MAX && gy <= 65535, ErrorCode::NOT_SUPPORTED, "matmul on cuda without cuBLAS of more than ", 65535 * kTile,
        " rows (the tiled kernel's grid); build with cuBLAS");
  cudaStream_t st = cuda_stream();
  for (int64_t b0 = 0; b0 < g.batch; b0 += 65535) {
    unsigned int nb = static_cast<unsigned int>(std::min<int64_t>(65535, g.batch - b0));
    dim3 grid(static_cast<unsigned int>(gx), static_cast<unsigned int>(gy), nb);
    TR_CUDA_FLOAT_DISPATCH(dt, "matmul", S, { gemm_tiled_kernel<S><<<grid, dim3(kTile, kTile), 0, st>>>(g, b0); });
    TR_CUDA_LAUNCHED("matmul (tiled)");
  }
}

#ifdef TR_HAVE_CUBLAS
const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "an unknown cuBLAS status";
  }
}

// Every cuBLAS failure (after the handle exists) is a CUDA_ERROR naming the call and the status.
#define TR_CUBLAS_CHECK(expr)                                                                     \
  do {                                                                                            \
    cublasStatus_t tr_st_ = (expr);                                                               \
    if (tr_st_ != CUBLAS_STATUS_SUCCESS)                                                          \
      ::tr::fail(::tr::ErrorCode::CUDA_ERROR, #expr, " failed: ", cublas_status_name(tr_st_),     \
                 " (status ", static_cast<int>(tr_st_), ")");                                     \
  } while (0)

// Set once cublasCreate has failed: the tiled kernel serves every product (cuda_gemm_backend says "tiled").
std::atomic<bool> cublas_failed{false};

// One handle for the process, on the current stream. Never destroyed (the runtime may be gone at exit).
// Null where cuBLAS cannot start here (a library that does not match the driver, say): then the tiled
// kernel serves, and the failure is remembered (the static is set once), not retried on every product.
// A lack of memory gets one retry after the caching allocator hands its cached blocks back.
cublasHandle_t cublas_handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    cublasStatus_t st = cublasCreate(&handle);
    if (st == CUBLAS_STATUS_ALLOC_FAILED) {
      cuda_empty_cache();
      st = cublasCreate(&handle);
    }
    if (st != CUBLAS_STATUS_SUCCESS) {
      std::fprintf(stderr, "treereward: cublasCreate failed (%s); matrix products on cuda use the tiled kernel\n", cublas_status_name(st));
      cublas_failed = true;
      return static_cast<cublasHandle_t>(nullptr);
    }
    cublasStatus_t set = cublasSetStream(handle, cuda_stream());
    if (set != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(handle);  // the static is not set by a throw: the next product tries afresh
      fail(ErrorCode::CUDA_ERROR, "cublasSetStream failed: ", cublas_status_name(set), " (status ", static_cast<int>(set), ")");
    }
    return handle;
  }();
  return h;
}

bool tf32_allowed() {
  static const bool on = [] {
    const char* v = std::getenv("TREEREWARD_TF32");
    return v && std::string(v) == "1";
  }();
  return on;
}

void gemm_cublas(const GemmBatch& g, DType dt) {
  check(g.M <= INT_MAX && g.N <= INT_MAX && g.K <= INT_MAX && g.lda <= INT_MAX && g.ldb <= INT_MAX && g.ldc <= INT_MAX &&
            g.batch <= INT_MAX,
        ErrorCode::NOT_SUPPORTED, "matmul on cuda with a dimension over 2^31 - 1");
  cudaDataType_t type;
  cublasComputeType_t compute;
  switch (dt) {
    case DType::F32: type = CUDA_R_32F; compute = tf32_allowed() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; break;
    case DType::F64: type = CUDA_R_64F; compute = CUBLAS_COMPUTE_64F; break;
    case DType::BF16: type = CUDA_R_16BF; compute = CUBLAS_COMPUTE_32F; break;
    case DType::F16: type = CUDA_R_16F; compute = CUBLAS_COMPUTE_32F; break;
    default: fail(ErrorCode::NOT_SUPPORTED, "matmul on cuda does not support ", dtype_name(dt));
  }
  float alpha_f = 1.0f, beta_f = static_cast<float>(g.beta);
  double alpha_d = 1.0, beta_d = g.beta;
  const void* alpha = dt == DType::F64 ? static_cast<const void*>(&alpha_d) : static_cast<const void*>(&alpha_f);
  const void* beta = dt == DType::F64 ? static_cast<const void*>(&beta_d) : static_cast<const void*>(&beta_f);
  // Column-major C^T (N, M) = op(B)^T (N, K) @ op(A)^T (K, M).
  TR_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      cublas_handle(), g.tb ? CUBLAS_OP_T : CUBLAS_OP_N, g.ta ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(g.N), static_cast<int>(g.M),
      static_cast<int>(g.K), alpha, g.B, type, static_cast<int>(g.ldb), static_cast<long long>(g.sb), g.A, type, static_cast<int>(g.lda),
      static_cast<long long>(g.sa), beta, g.C, type, static_cast<int>(g.ldc), static_cast<long long>(g.sc), static_cast<int>(g.batch),
      compute, CUBLAS_GEMM_DEFAULT));
}
#endif

#ifdef TR_HAVE_CUBLAS
// TREEREWARD_CUDA_GEMM=tiled runs the tiled kernel even where cuBLAS is there (to test it on a GPU).
bool tiled_forced() {
  static const bool on = [] {
    const char* v = std::getenv("TREEREWARD_CUDA_GEMM");
    return v && std::string(v) == "tiled";
  }();
  return on;
}
#endif

void run_gemm(const GemmBatch& g, DType dt) {
  if (g.M == 0 || g.N == 0 || g.batch == 0) return;  // callers handle K == 0 (an empty sum)
#ifdef TR_HAVE_CUBLAS
  if (!tiled_forced() && cublas_handle()) {  // null: cuBLAS could not start, the tiled kernel serves
    gemm_cublas(g, dt);
    return;
  }
#endif
  gemm_tiled(g, dt);
}

// The one stride between consecutive flattened batches of t broadcast to `batch`, if there is one.
bool uniform_batch_stride(const Tensor& t, const Shape& batch, int64_t& stride) {
  int nb = static_cast<int>(batch.size()), rt = t.rank() - 2;
  Shape st(nb, 0);
  for (int i = 0; i < nb; ++i) {
    int j = i - (nb - rt);
    if (j >= 0 && t.shape()[j] == batch[i]) st[i] = t.strides()[j];
  }
  bool all_zero = true;
  for (int i = 0; i < nb; ++i) all_zero = all_zero && (batch[i] == 1 || st[i] == 0);
  if (all_zero) {
    stride = 0;
    return true;
  }
  int64_t expect = -1;  // walking from the innermost batch dim outwards
  stride = -1;
  for (int i = nb - 1; i >= 0; --i) {
    if (batch[i] == 1) continue;
    if (expect < 0) {
      stride = st[i];
      expect = st[i] * batch[i];
    } else {
      if (st[i] != expect) return false;
      expect *= batch[i];
    }
  }
  if (stride <= 0) return false;
  return true;
}

}  // namespace

const char* cuda_gemm_backend() {
#ifdef TR_HAVE_CUBLAS
  return tiled_forced() || cublas_failed ? "tiled" : "cublas";  // "cublas" until a handle could not be made
#else
  return "tiled";
#endif
}

void cuda_matmul_into(const Tensor& out, const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  int ra = a.rank(), rb = b.rank();
  GemmBatch g;
  g.M = a.shape()[ra - 2];
  g.K = a.shape()[ra - 1];
  g.N = b.shape()[rb - 1];
  Shape batch(out.shape().begin(), out.shape().end() - 2);
  g.batch = shape_numel(batch);
  if (out.numel() == 0) return;
  if (g.K == 0) {
    cuda_fill(out, 0.0);
    return;
  }
  // An operand whose batches are not one stride apart (a broadcast over some batch dims only, or a
  // permuted view) is materialised at the full batch shape.
  auto prepare = [&](Tensor& t, int64_t rows, int64_t cols, bool& trans, int64_t& ld, int64_t& sbatch) {
    if (!matrix_layout(t, trans, ld) || !uniform_batch_stride(t, batch, sbatch)) {
      Shape full = batch;
      full.push_back(rows);
      full.push_back(cols);
      Tensor dense = empty(full, t.dtype(), Device::CUDA);
      Shape st = broadcast_strides(t, full);
      cuda_copy(dense, view_of(t, full, st, t.offset()));
      t = dense;
      matrix_layout(t, trans, ld);
      uniform_batch_stride(t, batch, sbatch);
    }
  };
  prepare(a, g.M, g.K, g.ta, g.lda, g.sa);
  prepare(b, g.K, g.N, g.tb, g.ldb, g.sb);
  g.A = a.raw();
  g.B = b.raw();
  g.C = out.raw();
  g.ldc = g.N;
  g.sc = g.M * g.N;
  run_gemm(g, out.dtype());
}

void cuda_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const Tensor& A, int64_t lda, const Tensor& B, int64_t ldb,
               double beta, const Tensor& Cm, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (beta == 0) cuda_fill(Cm, 0.0);
    return;
  }
  GemmBatch g;
  g.ta = trans_a;
  g.tb = trans_b;
  g.M = M;
  g.N = N;
  g.K = K;
  g.A = A.raw();
  g.lda = lda;
  g.B = B.raw();
  g.ldb = ldb;
  g.C = Cm.raw();
  g.ldc = ldc;
  g.beta = beta;
  run_gemm(g, Cm.dtype());
}

}  // namespace tr
