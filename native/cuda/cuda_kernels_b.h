// cuda_kernels_b.h: host entry points of the fused CUDA kernels: flash attention (attention.cu),
// convolution (conv2d.cu) and the optimizer steps (adamw.cu). Plain C++ (no CUDA headers), called by
// native/cpu/flash_attention.cpp, conv2d.cpp and optim.cpp under TR_HAVE_CUDA for the compute only;
// validation and the autograd record stay in those files. Layouts as the CPU ops: q (B, H, Sq, D),
// k and v (B, H, Skv, D), x (N, Cin, H, W), weight (Cout, Cin/G, kh, kw), bias (Cout). Outputs are
// allocated by the caller, contiguous, on cuda, unless a function returns them.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tr {

// ---- attention.cu: FlashAttention-2 ----
// Whether the fused kernel takes this head dim and dtype (float32, bfloat16, float16; D <= 160).
bool cuda_attention_fits(DType dtype, int64_t D);
// out (B, H, Sq, D) in q's dtype and lse (B, H, Sq) float32: out = softmax(scale q k^T + mask) v, lse the
// row log-sum-exp. q, k, v any strides with the last dim dense; mask additive, broadcast to
// (B, H, Sq, Skv) by strides (any float dtype), or undefined.
void cuda_attention_forward(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                            double scale);
// dq, dk, dv (contiguous, q's dtype) from dout (contiguous) and the saved q, k, v, out, lse: Delta = rowsum(dout * out)
// first, then per key tile dK and dV in shared memory and dQ accumulated in float32.
void cuda_attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& out, const Tensor& lse, const Tensor& mask, double scale);

// ---- conv2d.cu: cuDNN when TR_HAVE_CUDNN, an implicit-GEMM kernel otherwise ----
struct CudaConvShape {
  int64_t N, Cin, H, W, Cout, kh, kw, sh, sw, ph, pw, G, Ho, Wo;
};
// out (N, Cout, Ho, Wo) = conv(x, weight) + bias; x, weight, bias contiguous, one dtype.
void cuda_conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& weight, const Tensor& bias, const CudaConvShape& s);
// The gradients asked for (the others undefined): dx (N, Cin, H, W), dweight (Cout, Cin/G, kh, kw), dbias (Cout), all fresh (=).
void cuda_conv2d_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias, const Tensor& dout, const Tensor& x,
                          const Tensor& weight, const CudaConvShape& s);
const char* cuda_conv2d_backend();  // "cudnn" or "implicit-gemm"

// ---- adamw.cu: the optimizer steps of optim.cpp, in float64 arithmetic as there ----
void cuda_adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double beta1, double beta2,
                     double eps, double weight_decay, double bc1, double bc2);
void cuda_sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum, double dampening,
                   double weight_decay, bool nesterov, bool first_step);

}  // namespace tr
