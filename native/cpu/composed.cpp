// composed.cpp: ops that are compositions of other ops (tinygrad's rule: no new kernel unless a
// benchmark shows the win): geglu, dropout, mse, plain attention. Their backward is the
// composition's backward. attention_plain is the reference for the fused attention.
#include "core/rng.h"
#include "cpu/kernel_util.h"

namespace tr {

// diffusers' GEGLU: proj output (..., 2F) split into (hidden, gate): hidden * gelu(gate).
Tensor geglu(const Tensor& a) {
  check_float(a, "geglu", "a");
  check(a.rank() >= 1 && a.shape().back() % 2 == 0, ErrorCode::SHAPE_MISMATCH,
        "Expected an even last dimension for geglu but received ", shape_str(a.shape()));
  int64_t f = a.shape().back() / 2;
  Tensor hidden = slice(a, -1, 0, f, 1), gate = slice(a, -1, f, 2 * f, 1);
  return mul(hidden, gelu(gate, false));
}

Tensor dropout(const Tensor& a, double p, uint64_t seed, uint64_t offset) {
  check_float(a, "dropout", "a");
  check(p >= 0 && p < 1, ErrorCode::INVALID_ARGUMENT, "Expected a probability in [0, 1) for dropout but received ", p);
  if (p == 0) return a;
  DType dt = compute_dtype(a.dtype());
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) return mul(a, cast_raw(cuda_dropout_mask(a.shape(), dt, p, seed, offset), a.dtype()));  // the same mask
#endif
  Tensor mask = empty(a.shape(), dt);
  double keep = 1.0 / (1.0 - p);
  TR_FLOAT_DISPATCH(dt, T, {
    T* pm = mask.data<T>();
    parallel_for(mask.numel(), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        pm[i] = rng_uniform(seed, offset + static_cast<uint64_t>(i), 3) < p ? T(0) : static_cast<T>(keep);
    });
  });
  return mul(a, cast_raw(mask, a.dtype()));
}

Tensor mse_loss(const Tensor& a, const Tensor& b) {
  check_float(a, "mseLoss", "input");
  check_float(b, "mseLoss", "target");
  check(a.shape() == b.shape(), ErrorCode::SHAPE_MISMATCH, "Expected input and target of one shape for mseLoss but received ",
        shape_str(a.shape()), " and ", shape_str(b.shape()));
  return mean(pow_scalar(sub(a, b), 2.0), {}, false);
}

// The plain composition: the reference the fused kernel (flash_attention.cpp) is checked against.
Tensor attention_plain(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double scale) {
  check_float(q, "attention", "q");
  check_float(k, "attention", "k");
  check_float(v, "attention", "v");
  check(q.rank() == 4 && k.rank() == 4 && v.rank() == 4, ErrorCode::SHAPE_MISMATCH,
        "Expected q, k, v of shape [B, H, S, D] for attention but received ", shape_str(q.shape()), ", ",
        shape_str(k.shape()), ", ", shape_str(v.shape()));
  check(k.shape()[0] == v.shape()[0] && k.shape()[1] == v.shape()[1] && k.shape()[2] == v.shape()[2],
        ErrorCode::SHAPE_MISMATCH, "Expected k and v to agree in [B, H, Skv] for attention but received ", shape_str(k.shape()), " and ", shape_str(v.shape()));
  check(q.shape()[0] == k.shape()[0] && q.shape()[1] == k.shape()[1] && q.shape()[3] == k.shape()[3], ErrorCode::SHAPE_MISMATCH,
        "Expected q and k to agree in B, H and D for attention but received ", shape_str(q.shape()), " and ", shape_str(k.shape()));
  Tensor scores = mul_scalar(matmul(q, transpose(k, -1, -2)), scale);  // (B, H, Sq, Skv)
  if (mask.defined()) {
    broadcast_shapes(mask.shape(), scores.shape(), "attention mask");
    scores = add(scores, mask);
  }
  return matmul(softmax(scores, -1), v);
}

}  // namespace tr
