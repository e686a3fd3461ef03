// cuda_ops.h: the CUDA kernels' host entry points. The op functions in native/cpu call these, under
// TR_HAVE_CUDA, for the compute part only when their inputs are on cuda; validation and the autograd
// record stay shared, so backward on cuda runs through the same op functions and so on the GPU.
// Plain C++ (no CUDA headers). Tensors are row-major; outputs are contiguous and allocated by the
// caller unless a function returns one; optional tensors may be undefined. Dtypes float32, float64,
// bfloat16, float16 (bf16/f16 computed in float32); anything else throws NOT_SUPPORTED naming the op.
#pragma once
#include <cstdint>
#include <string>

#include "core/ops.h"
#include "core/tensor.h"

namespace tr {

// ---- memory (device.cu) ----
struct CudaMemoryStats {
  int64_t allocated_bytes;  // bytes in blocks handed to live storages
  int64_t cached_bytes;     // bytes in freed blocks kept for reuse
  int64_t reserved_bytes;   // allocated + cached: what cudaMalloc holds
  int64_t mallocs;          // cudaMalloc calls so far
  int64_t cache_hits;       // allocations served from the cache
  int64_t peak_reserved_bytes;  // the most reserved at once since the last cuda_reset_peak_reserved()
};
CudaMemoryStats cuda_memory_stats();
void cuda_empty_cache();  // returns every cached block to the driver
void cuda_reset_peak_reserved();  // the peak of reserved bytes starts again from what is reserved now

// ---- copies and fills (copy.cu) ----
void cuda_copy(const Tensor& dst, const Tensor& src);  // same shape, any strides and dtypes, both on cuda
void cuda_fill(const Tensor& dst, double value);       // dst contiguous, any dtype

// ---- elementwise (binary.cu, unary.cu) ----
// op: Add, Sub, Mul, Div, Pow. a, b of one float dtype, any strides, NumPy broadcasting.
Tensor cuda_binary(Op op, const Tensor& a, const Tensor& b);
// op: AddScalar, MulScalar, PowScalar, RDivScalar; out = f(a, s).
Tensor cuda_scalar(Op op, const Tensor& a, double s);
// The gradients of PowScalar (dout * p * x^(p-1)) and RDivScalar (-dout * s / x^2).
Tensor cuda_scalar_backward(Op op, const Tensor& dout, const Tensor& x, double s);
// op: Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, LogSigmoid, Relu, Gelu, GeluTanh, Silu, Clamp (lo, hi).
Tensor cuda_unary(Op op, const Tensor& a, double lo, double hi);
// dx = g(dout, x, y) for the same ops; dout, x, y contiguous of one shape.
Tensor cuda_unary_backward(Op op, const Tensor& dout, const Tensor& x, const Tensor& y, double lo, double hi);
// Inverted-dropout mask with rng.h's counter-based uniforms (the CPU's exact mask): 0 or 1/(1-p).
Tensor cuda_dropout_mask(const Shape& shape, DType dtype, double p, uint64_t seed, uint64_t offset);

// ---- reductions (reduce.cu, softmax.cu) ----
void cuda_sum_rows(const Tensor& out, const Tensor& in, int64_t rows, int64_t cols, double scale);  // in (rows, cols)
void cuda_sum_cols(const Tensor& out, const Tensor& in, int64_t rows, int64_t cols, double scale);  // in (cols, rows): sums the leading dim
// out (rows), argmax int32 (rows): the first maximum of each row (NaN wins, as on the CPU).
void cuda_max_rows(const Tensor& out, const Tensor& argmax, const Tensor& in, int64_t rows, int64_t cols);
void cuda_scatter_rows(const Tensor& g, const Tensor& dout, const Tensor& argmax, int64_t rows, int64_t cols);  // g zeroed (rows, cols)
double cuda_sum_of_squares(const Tensor& a);  // contiguous, in float64 (synchronises)
void cuda_softmax_forward(const Tensor& out, const Tensor& in, int64_t outer, int64_t dim, int64_t inner, bool log_space);
void cuda_softmax_backward(const Tensor& dx, const Tensor& dy, const Tensor& y, int64_t outer, int64_t dim, int64_t inner, bool log_space);

// ---- products (matmul.cu): cuBLAS when TR_HAVE_CUBLAS, a tiled shared-memory kernel otherwise ----
// out (..., M, N) = a (..., M, K) @ b (..., K, N), batch dims broadcast; a, b any strides.
void cuda_matmul_into(const Tensor& out, const Tensor& a, const Tensor& b);
// C (M, N) = op(A) @ op(B) + beta * C, row-major with leading dims, on the raw pointers of contiguous tensors.
void cuda_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const Tensor& A, int64_t lda, const Tensor& B, int64_t ldb,
               double beta, const Tensor& C, int64_t ldc);
const char* cuda_gemm_backend();  // "cublas" or "tiled"

// ---- normalisation (layer_norm.cu, group_norm.cu); mean/rstd float32 (float64 for float64) ----
void cuda_layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            int64_t rows, int64_t D, double eps);
void cuda_layernorm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                             const Tensor& mean, const Tensor& rstd, int64_t rows, int64_t D);
void cuda_groupnorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            int64_t N, int64_t C, int64_t G, int64_t S, double eps, bool silu);
void cuda_groupnorm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                             const Tensor& b, const Tensor& mean, const Tensor& rstd, int64_t N, int64_t C, int64_t G, int64_t S, bool silu);

// ---- images (upsample.cu, avg_pool.cu) ----
void cuda_upsample2x_forward(const Tensor& out, const Tensor& x, int64_t rows, int64_t W);  // rows = N*C*H
void cuda_upsample2x_backward(const Tensor& dx, const Tensor& dout, int64_t rows, int64_t W);
void cuda_avgpool_forward(const Tensor& out, const Tensor& x, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t k, int64_t s);
void cuda_avgpool_backward(const Tensor& dx, const Tensor& dout, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t k,
                           int64_t s);

// ---- lookup and losses (embedding.cu, cross_entropy.cu) ----
// Checks the indices on the device (one synchronisation) and throws INVALID_ARGUMENT naming the first bad one.
void cuda_embedding_forward(const Tensor& out, const Tensor& w, const Tensor& idx, int64_t V, int64_t D);
void cuda_embedding_backward(const Tensor& g, const Tensor& dout, const Tensor& idx, int64_t V, int64_t D);  // g zeroed (V, D)
// loss (scalar) and probs (N, C); returns the number of counted rows (checks targets, one synchronisation).
int64_t cuda_cross_entropy_forward(const Tensor& loss, const Tensor& probs, const Tensor& x, const Tensor& targets, int64_t N, int64_t C,
                                   int64_t ignore_index);
void cuda_cross_entropy_backward(const Tensor& g, const Tensor& dout, const Tensor& probs, const Tensor& targets, int64_t N, int64_t C,
                                 int64_t count, int64_t ignore_index);

// ---- in place (inplace.cu) ----
void cuda_add_inplace(const Tensor& dst, const Tensor& src, double alpha);  // same dtype, contiguous
void cuda_mul_scalar_inplace(const Tensor& dst, double s);

}  // namespace tr
