// flash_attention.cpp: fused scaled dot-product attention (FlashAttention-2 scheme), the ops: their
// checks, the dispatch to an implementation, the autograd record and the bf16 <-> f32 copies.
// attention: q (B, H, Sq, D), k and v (B, H, Skv, D), mask additive and broadcastable to (B, H, Sq, Skv)
// or undefined. attention_heads: the same on token tensors (B, S, H * D), as the models call it. The cpu
// kernels read q, k, v and dO in place with any strides for batch, head and row (D contiguous) and write
// the output in q's layout, so the models' split of the tokens into heads and merge back copy nothing. Forward: tiles of queries against tiles of keys with an online softmax; saves only the
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
#include <algorithm>
#include <cstdlib>
#include <functional>
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

// q, k, v and dO are read in place with any strides for batch, head and row (attn::Rows); D must be contiguous.
Tensor dense_last(const Tensor& t) { return t.strides()[3] == 1 || t.shape()[3] == 1 ? t : contiguous(t); }

template <typename T>
attn::Rows<T> rows_of(const Tensor& t) {  // t (B, H, S, D) with D contiguous
  return {t.data<T>(), t.strides()[0], t.strides()[1], t.strides()[2], t.shape()[1]};
}

// A new (B, H, S, D) tensor laid out as `like` is: a dense buffer whose B, H, S dims are in the order of like's
// strides (outermost first; D last), seen in like's shape. So for q seen as (B, H, Sq, D) through a permute of
// (B, Sq, H, D), as the models split heads, the output is a (B, Sq, H, D) buffer and their merge of the heads
// (permute back, reshape) is a view. Contiguous where like is broadcast (a zero stride on a dim of size > 1).
Tensor empty_in_layout(const Tensor& like, DType dtype) {
  const Shape &sh = like.shape(), &st = like.strides();
  for (int i = 0; i < 3; ++i)
    if (sh[i] > 1 && st[i] == 0) return empty(sh, dtype);
  int order[3] = {0, 1, 2};
  std::stable_sort(order, order + 3, [&](int a, int b) { return st[a] > st[b]; });
  Tensor buf = empty({sh[order[0]], sh[order[1]], sh[order[2]], sh[3]}, dtype);
  Shape strides(4, 1);
  for (int i = 0; i < 3; ++i) strides[order[i]] = buf.strides()[i];
  return view_of(buf, sh, strides, 0);
}

// bf16 <-> f32 copies for the bf16 path, 16 lanes at a time, in the layout of their source (the engine's cast
// would make a contiguous copy): rows of D values converted one by one (f32 -> bf16 rounded to nearest even).
#ifdef TR_HAVE_AVX512
template <typename To, typename From>
Tensor convert_rows(const Tensor& src, DType to) {
  Tensor dst = empty_in_layout(src, to);
  attn::Rows<To> d = rows_of<To>(dst);
  attn::Rows<const From> s = rows_of<const From>(src);
  int64_t S = src.shape()[2], D = src.shape()[3];
  parallel_for(src.shape()[0] * src.shape()[1] * S, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      To* y = d.row(i / S, i % S);
      const From* x = s.row(i / S, i % S);
      for (int64_t c = 0; c < D; c += 16) vec::store16(y + c, vec::load16(x + c, vec::lanes(D - c)), vec::lanes(D - c));
    }
  });
  return dst;
}
#endif

// widen returns t itself when it is not bf16; t (B, H, S, D) with D contiguous.
Tensor widen(const Tensor& t) {
#ifdef TR_HAVE_AVX512
  return t.dtype() == DType::BF16 ? convert_rows<float, uint16_t>(t, DType::F32) : t;
#else
  return t.dtype() == DType::BF16 ? cast_raw(t, DType::F32) : t;
#endif
}

Tensor narrow_bf16(const Tensor& t) {  // f32 (B, H, S, D) with D contiguous -> bf16
#ifdef TR_HAVE_AVX512
  return convert_rows<uint16_t, float>(t, DType::BF16);
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

// The checks of attention's arguments; q, k, v (B, H, S, D).
Dims check_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_in) {
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
  Dims n{q_in.shape()[0], q_in.shape()[1], q_in.shape()[2], k_in.shape()[2], q_in.shape()[3]};
  if (mask_in.defined()) {
    broadcast_shapes(mask_in.shape(), {n.B, n.H, n.Sq, n.Skv}, "attention mask");
    check(mask_in.rank() <= 4, ErrorCode::SHAPE_MISMATCH, "Expected a mask of rank <= 4 for attention but received ", shape_str(mask_in.shape()));
  }
  return n;
}

// Whether the cpu kernels take dtype as it is: float32, float64, and bf16 where a fast path exists (bf16 products on
// AVX512-BF16, else the fast f32 kernels on widened copies, rounding each result once). Other low precision (and
// bf16 without a fast path) goes through the f32 op.
bool cpu_takes(DType dt, const Dims& n) { return dt == DType::F32 || dt == DType::F64 || (dt == DType::BF16 && use_fast(DType::F32, n)); }

using Backward = std::function<std::vector<Tensor>(const Tensor&)>;

// The forward on the cpu for a dtype it takes: the output in the layout of q (the kernels read q, k, v in place with
// their strides for batch, head and row). With `backward`, also what the record runs: it saves q, k, v as computed,
// the output and the log-sum-exp (and the mask, an input), and gives dq, dk, dv in the layouts of q, k, v
// (grads_like_inputs) or contiguous.
Tensor cpu_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_in, const Dims& n, double scale,
                     Backward* backward, bool grads_like_inputs) {
  Tensor out, sq, sk, sv, so, lse, mask;
  bool fast = false, bf16 = false, dot16 = false;
  DType dt = q_in.dtype();
  if (dt == DType::BF16 && use_bf16_dot(n)) {
#ifdef TR_HAVE_BF16_DOT
    dot16 = true;
    if (mask_in.defined()) mask = mask_in.dtype() == DType::BF16 || mask_in.dtype() == DType::F32 ? mask_in : cast_raw(mask_in, DType::F32);
    Tensor q = dense_last(q_in), k = dense_last(k_in), v = dense_last(v_in);
    out = empty_in_layout(q, DType::BF16);
    lse = empty({n.B, n.H, n.Sq}, DType::F32);
    attn::fast16::flash_forward(rows_of<uint16_t>(out), lse.data<float>(), rows_of<const uint16_t>(q), rows_of<const uint16_t>(k),
                                rows_of<const uint16_t>(v), n, static_cast<float>(scale), mask_view(mask, n));
    sq = q, sk = k, sv = v, so = out;
#endif
  } else {
    bf16 = dt == DType::BF16;
    dt = bf16 ? DType::F32 : dt;
    if (mask_in.defined()) mask = cast_raw(mask_in, dt);
    Tensor qf = widen(dense_last(q_in)), kf = widen(dense_last(k_in)), vf = widen(dense_last(v_in));
    Tensor outf = empty_in_layout(qf, dt);
    lse = empty({n.B, n.H, n.Sq}, dt);
    MaskView mv = mask_view(mask, n);
    fast = use_fast(dt, n);
#ifdef TR_HAVE_AVX512
    if (fast)
      attn::fast::flash_forward(rows_of<float>(outf), lse.data<float>(), rows_of<const float>(qf), rows_of<const float>(kf),
                                rows_of<const float>(vf), n, static_cast<float>(scale), mv);
#endif
    if (!fast) TR_FLOAT_DISPATCH(dt, T, {
      attn::flash_forward<T>(rows_of<T>(outf), lse.data<T>(), rows_of<const T>(qf), rows_of<const T>(kf), rows_of<const T>(vf), n,
                             static_cast<T>(scale), mv);
    });
    out = bf16 ? narrow_bf16(outf) : outf;
    // for bf16 the f32 copies: memory stays linear, and the backward does not widen them again
    sq = qf, sk = kf, sv = vf, so = outf;
  }
  if (!backward) return out;
  sq = sq.detach(), sk = sk.detach(), sv = sv.detach(), so = so.detach();
  auto grad_like = [grads_like_inputs](const Tensor& t, DType g) { return grads_like_inputs ? empty_in_layout(t, g) : empty(t.shape(), g); };
  *backward = [sq, sk, sv, so, lse, mask, n, scale, fast, bf16, dot16, dt, grad_like](const Tensor& dout_in) -> std::vector<Tensor> {
#ifdef TR_HAVE_BF16_DOT
    if (dot16) {
      Tensor dout = dense_last(dout_in.dtype() == DType::BF16 ? dout_in : cast_raw(dout_in, DType::BF16));
      Tensor dqf = grad_like(sq, DType::F32), dk = grad_like(sk, DType::BF16), dv = grad_like(sv, DType::BF16);
      attn::fast16::flash_backward(rows_of<float>(dqf), rows_of<uint16_t>(dk), rows_of<uint16_t>(dv), rows_of<const uint16_t>(dout),
                                   rows_of<const uint16_t>(sq), rows_of<const uint16_t>(sk), rows_of<const uint16_t>(sv),
                                   rows_of<const uint16_t>(so), lse.data<float>(), n, static_cast<float>(scale), mask_view(mask, n));
      return {narrow_bf16(dqf), dk, dv};
    }
#endif
    Tensor dout = widen(dense_last(dout_in));
    Tensor dq = grad_like(sq, dt), dk = grad_like(sk, dt), dv = grad_like(sv, dt);
    MaskView m = mask_view(mask, n);
#ifdef TR_HAVE_AVX512
    if (fast)
      attn::fast::flash_backward(rows_of<float>(dq), rows_of<float>(dk), rows_of<float>(dv), rows_of<const float>(dout),
                                 rows_of<const float>(sq), rows_of<const float>(sk), rows_of<const float>(sv), rows_of<const float>(so),
                                 lse.data<float>(), n, static_cast<float>(scale), m);
#endif
    if (!fast) TR_FLOAT_DISPATCH(dt, T, {
      attn::flash_backward<T>(rows_of<T>(dq), rows_of<T>(dk), rows_of<T>(dv), rows_of<const T>(dout), rows_of<const T>(sq),
                              rows_of<const T>(sk), rows_of<const T>(sv), rows_of<const T>(so), lse.data<T>(), n,
                              static_cast<T>(scale), m);
    });
    if (bf16) return {narrow_bf16(dq), narrow_bf16(dk), narrow_bf16(dv)};
    return {dq, dk, dv};
  };
  return out;
}

// Token tensors and their heads, views without autograd: x (B, N, H d) <-> (B, H, N, d).
Tensor split_heads(const Tensor& x, int64_t heads) {
  const Shape& st = x.strides();
  int64_t d = x.shape()[2] / heads;
  return view_of(x, {x.shape()[0], heads, x.shape()[1], d}, {st[0], d * st[2], st[1], st[2]}, x.offset());
}
Tensor merge_heads(const Tensor& t) {  // a copy unless each row's heads are adjacent in memory (as empty_in_layout gives)
  const Shape &sh = t.shape(), &st = t.strides();
  Tensor x = view_of(t, {sh[0], sh[2], sh[1], sh[3]}, {st[0], st[2], st[1], st[3]}, t.offset());  // (B, N, H, d)
  if (!((st[3] == 1 || sh[3] == 1) && (st[1] == sh[3] || sh[1] == 1))) x = contiguous(x);
  return view_of(x, {sh[0], sh[2], sh[1] * sh[3]}, {x.strides()[0], x.strides()[1], 1}, x.offset());
}
}  // namespace

Tensor attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_in, double scale) {
  Dims n = check_attention(q_in, k_in, v_in, mask_in);
  const bool on_cuda = op_device("attention", q_in, k_in, v_in, mask_in) == Device::CUDA;
  const bool grad = needs_grad({q_in, k_in, v_in});
  // The forward on the inputs' device: out, and what the backward needs. cuda (native/cuda/attention.cu): float32,
  // bf16 and f16 natively at head dims up to 160 where the tiles fit the GPU's shared memory; float64, larger
  // heads and smaller GPUs go through the composed form there.
  if (on_cuda) {
#ifdef TR_HAVE_CUDA
    // mixed precision (core/autograd.h): the fused kernel in bf16, the output back in float32
    if (autocast_bf16(q_in.dtype(), Device::CUDA))
      return cast(attention(cast(q_in, DType::BF16), cast(k_in, DType::BF16), cast(v_in, DType::BF16), mask_in, scale), DType::F32);
    DType dt = q_in.dtype();
    if (!cuda_attention_fits(dt, n.D)) return attention_plain(q_in, k_in, v_in, mask_in, scale);
    Tensor q = dense_last(q_in), k = dense_last(k_in), v = dense_last(v_in);
    Tensor out = empty(q.shape(), dt, Device::CUDA);
    Tensor lse = empty({n.B, n.H, n.Sq}, DType::F32, Device::CUDA);
    // an integer mask is read as float32, as the cpu path casts it to q's dtype
    Tensor mask = mask_in.defined() && mask_in.dtype() == DType::I32 ? cast_raw(mask_in, DType::F32) : mask_in;
    cuda_attention_forward(out, lse, q, k, v, mask, scale);
    if (grad) {
      // Saved: q, k, v, the output and the log-sum-exp (and the mask, an input).
      Tensor sq = q.detach(), sk = k.detach(), sv = v.detach(), so = out.detach();
      record(out, Op::Attention, {q_in, k_in, v_in}, [sq, sk, sv, so, lse, mask, scale, dt](const Tensor& dout) -> std::vector<Tensor> {
        Tensor dq = empty(sq.shape(), dt, Device::CUDA), dk = empty(sk.shape(), dt, Device::CUDA), dv = empty(sv.shape(), dt, Device::CUDA);
        cuda_attention_backward(dq, dk, dv, dout, sq, sk, sv, so, lse, mask, scale);
        return {dq, dk, dv};
      });
    }
    return out;
#endif
  }
  if (autocast_bf16(q_in.dtype(), Device::CPU) && use_bf16_dot(n))  // mixed precision (core/autograd.h)
    return cast(attention(cast(q_in, DType::BF16), cast(k_in, DType::BF16), cast(v_in, DType::BF16), mask_in, scale), DType::F32);
  if (!cpu_takes(q_in.dtype(), n)) return cast(attention(up(q_in), up(k_in), up(v_in), up(mask_in), scale), q_in.dtype());
  // dq, dk, dv contiguous: the autograd engine hands a node contiguous gradients only (a view's would be copied)
  Backward backward;
  Tensor out = cpu_attention(q_in, k_in, v_in, mask_in, n, scale, grad ? &backward : nullptr, false);
  if (grad) record(out, Op::Attention, {q_in, k_in, v_in}, backward);
  return out;
}

Tensor attention_heads(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask, double scale) {
  check(q.rank() == 3 && k.rank() == 3 && v.rank() == 3 && heads > 0 && q.shape()[2] % heads == 0, ErrorCode::SHAPE_MISMATCH,
        "Expected q, k, v of shape [B, N, C] with C divisible by heads (", heads, ") for attention but received ", shape_str(q.shape()),
        ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
  Tensor qh = split_heads(q, heads), kh = split_heads(k, heads), vh = split_heads(v, heads);  // (B, H, N, d), no autograd
  Dims n = check_attention(qh, kh, vh, mask);
  if (op_device("attention", q, k, v, mask) == Device::CUDA || !cpu_takes(q.dtype(), n)) {
    // the composed form: autograd through the split, the attention and the merge
    auto split = [heads](const Tensor& x) { return permute(reshape(x, {x.shape()[0], x.shape()[1], heads, x.shape()[2] / heads}), {0, 2, 1, 3}); };
    Tensor o = attention(split(q), split(k), split(v), mask, scale);  // (B, H, Nq, d)
    return reshape(permute(o, {0, 2, 1, 3}), {n.B, n.Sq, n.H * n.D});
  }
  if (autocast_bf16(q.dtype(), Device::CPU) && use_bf16_dot(n))  // mixed precision (core/autograd.h)
    return cast(attention_heads(cast(q, DType::BF16), cast(k, DType::BF16), cast(v, DType::BF16), heads, mask, scale), DType::F32);
  // On the cpu one node from the token tensors to the output tokens: dout (contiguous, as the engine gives it) is read
  // as heads in place, and dq, dk, dv are written in the token layouts of q, k, v, so nothing is copied either way.
  const bool grad = needs_grad({q, k, v});
  Backward backward;
  Tensor out = merge_heads(cpu_attention(qh, kh, vh, mask, n, scale, grad ? &backward : nullptr, true));  // (B, Nq, C)
  if (grad)
    record(out, Op::Attention, {q, k, v}, [backward, heads](const Tensor& dout) -> std::vector<Tensor> {
      std::vector<Tensor> g = backward(split_heads(dout, heads));
      return {merge_heads(g[0]), merge_heads(g[1]), merge_heads(g[2])};
    });
  return out;
}

}  // namespace tr
