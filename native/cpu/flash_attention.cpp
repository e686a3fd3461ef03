// flash_attention.cpp: fused scaled dot-product attention (FlashAttention-2 scheme), the op: its
// checks, the dispatch to an implementation, the autograd record and the bf16 <-> f32 copies.
// q (B, H, Sq, D), k and v (B, H, Skv, D), mask additive and broadcastable to (B, H, Sq, Skv) or
// undefined. Forward: tiles of queries against tiles of keys with an online softmax; saves only the
// output and the per-row log-sum-exp. Backward: Delta = rowsum(dO * O), then per (batch, head) the
// probabilities are recomputed tile by tile: dV += P^T dO, dP = dO V^T, dS = P (dP - Delta),
// dK += dS^T Q scale, dQ += dS K scale. The Sq x Skv matrix is never materialised: memory grows
// linearly with sequence length. Work is split over (batch, head, query tile) forward and over
// (batch, head, key tile) backward: dK and dV rows belong to one job, dQ is summed in per-thread
// buffers, then added in a fixed order (the result does not depend on timing).
//
// Three implementations of the one scheme (declared in flash_attention_impl.h):
//  - flash_attention_f32.cpp: the fast path, float32 on AVX-512 targets (transposed tiles, vec::mac).
//  - flash_attention_bf16.cpp: bf16 on AVX512-BF16 targets (vdpbf16ps on bf16 tiles, float32 sums).
//    TREEREWARD_ATTENTION_BF16=f32 runs bf16 through the float32 fast path on widened copies instead
//    (for A/B timing).
//  - flash_attention_plain.cpp: the plain loops, the reference the fast paths are tested against, and
//    the float64 path; TREEREWARD_ATTENTION=plain forces them (bf16 then goes through the float32 op).
// On cuda the forward and backward compute in native/cuda/attention.cu (the same scheme on the GPU); the
// checks and the autograd record below are shared.
#include <cstdlib>
#include <string>

#include "cpu/flash_attention_impl.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_kernels_b.h"  // the compute of the fused attention on cuda
#endif

namespace tr {

namespace {
using attn::Dims;
using attn::MaskView;

// The fast path takes float32 on AVX-512 targets; TREEREWARD_ATTENTION=plain forces the loops (for A/B timing).
bool use_fast(DType dt, const Dims& n) {
#ifdef TR_HAVE_AVX512
  static const bool forced_plain = [] {
    const char* e = std::getenv("TREEREWARD_ATTENTION");
    return e && std::string(e) == "plain";
  }();
  return dt == DType::F32 && !forced_plain && n.Sq > 0 && n.Skv > 0 && n.D > 0;
#else
  return false;
#endif
}

// bf16 on AVX512-BF16 targets computes its products in bf16 (fast16); TREEREWARD_ATTENTION_BF16=f32 forces the
// float32 fast path on widened copies instead (for A/B timing).
bool use_bf16_dot(const Dims& n) {
#ifdef TR_HAVE_BF16_DOT
  static const bool forced_f32 = [] {
    const char* e = std::getenv("TREEREWARD_ATTENTION_BF16");
    return e && std::string(e) == "f32";
  }();
  return !forced_f32 && use_fast(DType::F32, n);
#else
  return false;
#endif
}

// bf16 <-> f32 copies for the bf16 path (vectorised; the engine's generic cast is per element).
// widen returns t itself when it is not bf16.
Tensor widen(const Tensor& t) {
#ifdef TR_HAVE_AVX512
  if (t.dtype() != DType::BF16) return t;
  Tensor src = contiguous(t), out = empty(t.shape(), DType::F32);
  const uint16_t* s = src.data<uint16_t>();
  float* d = out.data<float>();
  parallel_for(src.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i += 16) vec::store16(d + i, vec::load16(s + i, vec::lanes(e - i)), vec::lanes(e - i));
  });
  return out;
#else
  return t.dtype() == DType::BF16 ? cast_raw(t, DType::F32) : t;
#endif
}

Tensor narrow_bf16(const Tensor& t) {  // contiguous f32 -> bf16, rounded to nearest even
#ifdef TR_HAVE_AVX512
  Tensor out = empty(t.shape(), DType::BF16);
  const float* s = t.data<float>();
  uint16_t* d = out.data<uint16_t>();
  parallel_for(t.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i += 16) vec::store16(d + i, vec::load16(s + i, vec::lanes(e - i)), vec::lanes(e - i));
  });
  return out;
#else
  return cast_raw(t, DType::BF16);
#endif
}

MaskView mask_view(const Tensor& mask, const Dims& n) {
  MaskView mv;
  if (!mask.defined()) return mv;
  Tensor v = broadcast_view(mask, {n.B, n.H, n.Sq, n.Skv});
  mv.base = v.raw();
  mv.sb = v.strides()[0];
  mv.sh = v.strides()[1];
  mv.sq = v.strides()[2];
  mv.sk = v.strides()[3];
  mv.bf16 = v.dtype() == DType::BF16;
  return mv;
}
}  // namespace

Tensor attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_in, double scale) {
  check_float(q_in, "attention", "q");
  check_float(k_in, "attention", "k");
  check_float(v_in, "attention", "v");
  check(q_in.rank() == 4 && k_in.rank() == 4 && v_in.rank() == 4, ErrorCode::SHAPE_MISMATCH,
        "Expected q, k, v of shape [B, H, S, D] for attention but received ", shape_str(q_in.shape()), ", ",
        shape_str(k_in.shape()), ", ", shape_str(v_in.shape()));
  check(k_in.shape()[0] == v_in.shape()[0] && k_in.shape()[1] == v_in.shape()[1] && k_in.shape()[2] == v_in.shape()[2],
        ErrorCode::SHAPE_MISMATCH, "Expected k and v to agree in [B, H, Skv] for attention but received ", shape_str(k_in.shape()),
        " and ", shape_str(v_in.shape()));
  check(q_in.shape()[0] == k_in.shape()[0] && q_in.shape()[1] == k_in.shape()[1] && q_in.shape()[3] == k_in.shape()[3],
        ErrorCode::SHAPE_MISMATCH, "Expected q and k to agree in B, H and D for attention but received ", shape_str(q_in.shape()),
        " and ", shape_str(k_in.shape()));
  check_same_dtype(q_in, k_in, "attention");
  check_same_dtype(q_in, v_in, "attention");
  const bool on_cuda = op_device("attention", q_in, k_in, v_in, mask_in) == Device::CUDA;
  Dims n{q_in.shape()[0], q_in.shape()[1], q_in.shape()[2], k_in.shape()[2], q_in.shape()[3]};
  if (mask_in.defined()) {
    broadcast_shapes(mask_in.shape(), {n.B, n.H, n.Sq, n.Skv}, "attention mask");
    check(mask_in.rank() <= 4, ErrorCode::SHAPE_MISMATCH, "Expected a mask of rank <= 4 for attention but received ", shape_str(mask_in.shape()));
  }
  // The forward on the inputs' device: out, and what the backward needs (q, k, v as computed, the output, the
  // log-sum-exp, the mask). cuda (native/cuda/attention.cu): float32, bf16 and f16 natively at head dims up to 160;
  // float64 and larger heads go through the composed form there. cpu: bf16 runs fast16 (bf16 products) where the
  // target has AVX512-BF16, else the fast f32 kernels on widened copies, rounding each result once; other low
  // precision (and bf16 without a fast path) goes through the f32 op.
  Tensor out, sq, sk, sv, so, lse, mask;
  bool fast = false, bf16 = false, dot16 = false;
  DType dt = q_in.dtype();
  if (on_cuda) {
#ifdef TR_HAVE_CUDA
    if (!cuda_attention_fits(dt, n.D)) return attention_plain(q_in, k_in, v_in, mask_in, scale);
    auto dense_last = [](const Tensor& t) { return t.strides()[3] == 1 || t.shape()[3] == 1 ? t : contiguous(t); };
    Tensor q = dense_last(q_in), k = dense_last(k_in), v = dense_last(v_in);
    out = empty(q.shape(), dt, Device::CUDA);
    lse = empty({n.B, n.H, n.Sq}, DType::F32, Device::CUDA);
    mask = mask_in;
    cuda_attention_forward(out, lse, q, k, v, mask, scale);
    sq = q, sk = k, sv = v, so = out.detach();
#endif
  } else if (q_in.dtype() == DType::BF16 && use_bf16_dot(n)) {
#ifdef TR_HAVE_BF16_DOT
    dot16 = true;
    if (mask_in.defined()) mask = mask_in.dtype() == DType::BF16 || mask_in.dtype() == DType::F32 ? mask_in : cast_raw(mask_in, DType::F32);
    Tensor q = contiguous(q_in), k = contiguous(k_in), v = contiguous(v_in);
    out = empty(q.shape(), DType::BF16);
    lse = empty({n.B, n.H, n.Sq}, DType::F32);
    attn::fast16::flash_forward(out.data<uint16_t>(), lse.data<float>(), q.data<uint16_t>(), k.data<uint16_t>(), v.data<uint16_t>(), n,
                          static_cast<float>(scale), mask_view(mask, n));
    sq = q, sk = k, sv = v, so = out.detach();
#endif
  } else {
    bf16 = q_in.dtype() == DType::BF16 && use_fast(DType::F32, n);
    if (lowp(q_in) && !bf16) return cast(attention(up(q_in), up(k_in), up(v_in), up(mask_in), scale), q_in.dtype());
    dt = bf16 ? DType::F32 : q_in.dtype();
    if (mask_in.defined()) mask = cast_raw(mask_in, dt);
    Tensor q = contiguous(q_in), k = contiguous(k_in), v = contiguous(v_in);
    Tensor qf = widen(q), kf = widen(k), vf = widen(v);
    Tensor outf = empty(q.shape(), dt);
    lse = empty({n.B, n.H, n.Sq}, dt);
    MaskView mv = mask_view(mask, n);
    fast = use_fast(dt, n);
#ifdef TR_HAVE_AVX512
    if (fast) attn::fast::flash_forward(outf.data<float>(), lse.data<float>(), qf.data<float>(), kf.data<float>(), vf.data<float>(), n, static_cast<float>(scale), mv);
#endif
    if (!fast) TR_FLOAT_DISPATCH(dt, T, {
      attn::flash_forward<T>(outf.data<T>(), lse.data<T>(), qf.data<T>(), kf.data<T>(), vf.data<T>(), n, static_cast<T>(scale), mv);
    });
    out = bf16 ? narrow_bf16(outf) : outf;
    // for bf16 the f32 copies: memory stays linear, and the backward does not widen them again
    sq = qf, sk = kf, sv = vf, so = outf.detach();
  }
  if (needs_grad({q_in, k_in, v_in})) {
    // Saved: q, k, v, the output and the log-sum-exp (and the mask, an input).
    sq = sq.detach(), sk = sk.detach(), sv = sv.detach();
    record(out, Op::Attention, {q_in, k_in, v_in}, [sq, sk, sv, so, lse, mask, n, scale, fast, bf16, dot16, dt, on_cuda](const Tensor& dout_in) -> std::vector<Tensor> {
      if (on_cuda) {
#ifdef TR_HAVE_CUDA
        Tensor dq = empty(sq.shape(), dt, Device::CUDA), dk = empty(sk.shape(), dt, Device::CUDA), dv = empty(sv.shape(), dt, Device::CUDA);
        cuda_attention_backward(dq, dk, dv, dout_in, sq, sk, sv, so, lse, mask, scale);
        return {dq, dk, dv};
#endif
      }
#ifdef TR_HAVE_BF16_DOT
      if (dot16) {
        Tensor dout = contiguous(dout_in.dtype() == DType::BF16 ? dout_in : cast_raw(dout_in, DType::BF16));
        Tensor dqf = empty(sq.shape(), DType::F32), dk = empty(sk.shape(), DType::BF16), dv = empty(sv.shape(), DType::BF16);
        attn::fast16::flash_backward(dqf.data<float>(), dk.data<uint16_t>(), dv.data<uint16_t>(), dout.data<uint16_t>(), sq.data<uint16_t>(),
                               sk.data<uint16_t>(), sv.data<uint16_t>(), so.data<uint16_t>(), lse.data<float>(), n, static_cast<float>(scale),
                               mask_view(mask, n));
        return {narrow_bf16(dqf), dk, dv};
      }
#endif
      Tensor dout = widen(dout_in), qf = sq, kf = sk, vf = sv;
      Tensor dq = empty(sq.shape(), dt), dk = empty(sk.shape(), dt), dv = empty(sv.shape(), dt);
      MaskView m = mask_view(mask, n);
#ifdef TR_HAVE_AVX512
      if (fast)
        attn::fast::flash_backward(dq.data<float>(), dk.data<float>(), dv.data<float>(), dout.data<float>(), qf.data<float>(), kf.data<float>(),
                             vf.data<float>(), so.data<float>(), lse.data<float>(), n, static_cast<float>(scale), m);
#endif
      if (!fast) TR_FLOAT_DISPATCH(dt, T, {
        attn::flash_backward<T>(dq.data<T>(), dk.data<T>(), dv.data<T>(), dout.data<T>(), qf.data<T>(), kf.data<T>(), vf.data<T>(),
                          so.data<T>(), lse.data<T>(), n, static_cast<T>(scale), m);
      });
      if (bf16) return {narrow_bf16(dq), narrow_bf16(dk), narrow_bf16(dv)};
      return {dq, dk, dv};
    });
  }
  return out;
}

}  // namespace tr
