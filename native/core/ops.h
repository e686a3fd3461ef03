// ops.h: the op set. One closed enum with its name table, and the differentiable functions that
// native/cpu/<op>.cpp implements (forward and backward side by side). Tensors are row-major;
// "(B, H, S, D)" style comments give the expected layouts. Every function records its backward
// on the autograd tape when grad mode is on and an input requires grad.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace tr {

#define TR_OPS(X)                                                                               \
  X(Custom) X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(AddScalar) X(MulScalar) X(PowScalar) X(RDivScalar) \
  X(Neg) X(Exp) X(Log) X(Sqrt) X(Abs) X(Tanh) X(Sigmoid) X(LogSigmoid) X(Relu) X(Gelu) X(GeluTanh) \
  X(Silu) X(Geglu) X(Clamp) X(Dropout) X(Sum) X(Mean) X(Max) X(Softmax) X(LogSoftmax) X(Matmul)  \
  X(Linear) X(LayerNorm) X(GroupNorm) X(Conv2d) X(Upsample2x) X(AvgPool2d) X(Concat) X(Slice)     \
  X(Reshape) X(Permute) X(Expand) X(Contiguous) X(Embedding) X(Attention) X(CrossEntropy) X(Mse)  \
  X(Cast) X(Checkpoint) X(GroupNormSilu)

enum class Op {
#define TR_X(name) name,
  TR_OPS(TR_X)
#undef TR_X
};

inline const char* op_name(Op op) {
  switch (op) {
#define TR_X(name) case Op::name: return #name;
    TR_OPS(TR_X)
#undef TR_X
  }
  return "?";
}

// A backend says what it supports instead of crashing.
bool supports(Op op, DType dtype, Device device);

// ---- creation (no autograd) ----
Tensor arange(double start, double end, double step, DType dtype);
// Counter-based normal / uniform numbers: element i of a draw at (seed, offset) is a pure function
// of (seed, offset + i), the same on every machine and thread count.
Tensor randn(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype);
Tensor rand(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype);

// ---- elementwise, with NumPy broadcasting (binary.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);  // a > 0 where b is not an integer

// ---- tensor-scalar (scalar.cpp) ----
Tensor add_scalar(const Tensor& a, double s);
Tensor mul_scalar(const Tensor& a, double s);
Tensor pow_scalar(const Tensor& a, double p);
Tensor rdiv_scalar(const Tensor& a, double s);  // s / a

// ---- unary (unary.cpp, activations.cpp) ----
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor log_sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor gelu(const Tensor& a, bool tanh_approx);
Tensor silu(const Tensor& a);
Tensor geglu(const Tensor& a);  // (..., 2F) -> (..., F): first half * gelu(second half), as diffusers
Tensor clamp(const Tensor& a, double lo, double hi);  // gradient 1 inside [lo, hi], 0 outside
// Inverted dropout with a counter-based mask at (seed, offset); p = 0 returns a.
Tensor dropout(const Tensor& a, double p, uint64_t seed, uint64_t offset);

// ---- reductions (reduce.cpp, softmax.cpp) ----
Tensor sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim);  // empty axes: all
Tensor mean(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim);
Tensor max(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim);  // gradient to the first max
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);

// ---- products (matmul.cpp, linear.cpp; gemm.h is the kernel) ----
// (..., M, K) @ (..., K, N) -> (..., M, N); batch dims broadcast; 1-D operands as in NumPy.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., IN), weight (OUT, IN), bias (OUT) or undefined -> (..., OUT)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- normalisation (layer_norm.cpp, group_norm.cpp) ----
// Normalises over the last `norm_dims` dimensions; weight/bias of that trailing shape, or undefined.
Tensor layer_norm(const Tensor& x, int norm_dims, const Tensor& weight, const Tensor& bias, double eps);
// x (N, C, *) in `groups` groups; weight/bias (C) or undefined.
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps);
// silu(group_norm(x)) in one pass (group_norm.cpp); its backward recomputes the pre-activation.
Tensor group_norm_silu(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps);

// ---- images (conv2d.cpp, upsample.cpp, avg_pool.cpp) ----
// x (N, Cin, H, W), weight (Cout, Cin/groups, kh, kw), bias (Cout) or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride_h, int64_t stride_w,
              int64_t pad_h, int64_t pad_w, int64_t groups);
Tensor upsample_nearest2x(const Tensor& x);  // (N, C, H, W) -> (N, C, 2H, 2W)
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride);  // no padding

// ---- shape (view.cpp, concat.cpp) ----
Tensor reshape(const Tensor& a, const Shape& shape);  // one -1 allowed; a view when contiguous
Tensor permute(const Tensor& a, const std::vector<int64_t>& dims);  // a view
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step);  // a view
Tensor expand(const Tensor& a, const Shape& shape);  // a view with zero strides
Tensor contiguous_op(const Tensor& a);  // differentiable copy to contiguous
Tensor clone_op(const Tensor& a);       // differentiable copy (always a new buffer), as torch.clone
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor cast(const Tensor& a, DType dtype);  // differentiable; the gradient is cast back

// ---- lookup, attention, losses (embedding.cpp, attention.cpp, cross_entropy.cpp, mse.cpp) ----
Tensor embedding(const Tensor& weight, const Tensor& indices);  // weight (V, D), indices int32 (...) -> (..., D)
// Scaled dot-product attention: q (B, H, Sq, D), k/v (B, H, Skv, D); mask additive, broadcastable
// to (B, H, Sq, Skv), or undefined. attention is the fused kernel (flash_attention.cpp: saves only
// q, k, v, the output and the log-sum-exp); attention_plain composes matmul + softmax (the reference).
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double scale);
Tensor attention_plain(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double scale);
// The same on token tensors: q (B, Nq, C), k/v (B, Nk, C), C = heads * D -> (B, Nq, C), the heads split and
// merged without copies on the cpu (one autograd node; the composed split, attention and merge elsewhere).
Tensor attention_heads(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask, double scale);
// logits (N, C); targets int32 (N) with values in [0, C) or ignore_index; mean over counted rows.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index);
Tensor mse_loss(const Tensor& a, const Tensor& b);  // mean squared error

// ---- in place, outside the graph (inplace.cpp; optimizers use these) ----
void add_inplace(Tensor& dst, const Tensor& src, double alpha);  // dst += alpha * src (same shape)
void mul_scalar_inplace(Tensor& dst, double s);
void fill_inplace(Tensor& dst, double value);
double sum_of_squares(const Tensor& a);  // in float64

// ---- optimizer steps (optim.cpp): in place on param and state, no graph ----
void sgd_step(Tensor& param, const Tensor& grad, Tensor& momentum_buf, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool first_step);
void adamw_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                double eps, double weight_decay, int64_t step);

}  // namespace tr
