// group_norm.cpp: x (N, C, *spatial) normalised over each (n, group) of C/groups channels and all
// spatial positions, then y = xhat * weight[c] + bias[c]; weight/bias (C) or undefined. Each
// (n, group) is one contiguous run of Cg * S values (S = spatial size), so the kernels are row
// kernels as in layer_norm.cpp with a per-channel affine; mean and rstd are saved per (n, group).
// group_norm_silu is the same normalisation with SiLU applied in the same pass (the UNet's and VAE's
// norm -> act pairs): its backward recomputes the pre-activation instead of saving it.
// Fast path (float32 and bfloat16 storage on AVX-512 targets): vectorised, statistics by two passes
// over the group (which stays in L2), float32 lanes summed per block of 1024 in float64; bf16 is read
// and written as bf16 (half the bytes) and computed in f32. The plain loops below are the float64
// path and the reference (group_norm_silu there is group_norm then silu). On cuda every float dtype
// runs native/cuda/group_norm.cu's kernels, with SiLU fused.
// Accumulation rule: every gradient here is fresh (=); dweight/dbias sum over n in double.
#include <vector>

#include "cpu/kernel_util.h"
#include "cpu/vec_avx512.h"

namespace tr {

namespace {

struct GroupLayout {
  int64_t N = 0, C = 0, G = 0, Cg = 0, S = 1;  // Cg = C / G channels per group, S spatial size
};

template <typename T>
void groupnorm_forward(T* out, T* mean, T* rstd,                     // (N, C, S), (N, G), (N, G)
                       const T* inp, const T* weight, const T* bias,  // (N, C, S), (C) or null, (C) or null
                       GroupLayout l, double eps) {
  int64_t len = l.Cg * l.S;
  parallel_for(l.N * l.G, std::max<int64_t>(1, 4096 / len), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      const T* x = inp + ng * len;
      T* y = out + ng * len;
      // one pass in double, shifted by the first value so a large mean does not cancel the variance
      double shift = static_cast<double>(x[0]), s = 0, ss = 0;
      for (int64_t i = 0; i < len; ++i) {
        double d = static_cast<double>(x[i]) - shift;
        s += d;
        ss += d * d;
      }
      double m = s / static_cast<double>(len), var = std::max(ss / static_cast<double>(len) - m * m, 0.0);
      T tm = static_cast<T>(shift + m), trs = static_cast<T>(1.0 / std::sqrt(var + eps));
      mean[ng] = tm;
      rstd[ng] = trs;
      int64_t c0 = (ng % l.G) * l.Cg;
      for (int64_t j = 0; j < l.Cg; ++j) {
        // y = (x - mean) * rstd * w + b = x * scale + shift_c
        T scale = trs * (weight ? weight[c0 + j] : T(1));
        T off = (bias ? bias[c0 + j] : T(0)) - tm * scale;
        const T* xc = x + j * l.S;
        T* yc = y + j * l.S;
        for (int64_t i = 0; i < l.S; ++i) yc[i] = xc[i] * scale + off;
      }
    }
  });
}

// dinp (N, C, S) or null; dweight, dbias (C) or null; weight (C) or null (= ones).
template <typename T>
void groupnorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const T* mean,
                        const T* rstd, GroupLayout l) {
  int64_t len = l.Cg * l.S;
  // per (n, c): sum of dy and of dy * xhat, the pieces of dbias, dweight and dx
  std::vector<double> sum_dy(static_cast<size_t>(l.N * l.C)), sum_dy_xhat(static_cast<size_t>(l.N * l.C));
  parallel_for(l.N * l.G, std::max<int64_t>(1, 2048 / std::max<int64_t>(len, 1)), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      int64_t n = ng / l.G, c0 = (ng % l.G) * l.Cg;
      T m = mean[ng], rs = rstd[ng];
      // 1. per channel sums, and the group means of dxhat = dy * w and dxhat * xhat
      double dxhat_mean = 0, dxhat_xhat_mean = 0;
      for (int64_t j = 0; j < l.Cg; ++j) {
        const T* x = inp + ng * len + j * l.S;
        const T* dy = dout + ng * len + j * l.S;
        double sd = 0, sdx = 0;
        for (int64_t i = 0; i < l.S; ++i) {
          sd += dy[i];
          sdx += static_cast<double>(dy[i] * ((x[i] - m) * rs));
        }
        sum_dy[n * l.C + c0 + j] = sd;
        sum_dy_xhat[n * l.C + c0 + j] = sdx;
        double w = weight ? static_cast<double>(weight[c0 + j]) : 1.0;
        dxhat_mean += w * sd;
        dxhat_xhat_mean += w * sdx;
      }
      if (!dinp) continue;
      dxhat_mean /= static_cast<double>(len);
      dxhat_xhat_mean /= static_cast<double>(len);
      // 2. dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      T a = static_cast<T>(dxhat_mean), c = static_cast<T>(dxhat_xhat_mean);
      for (int64_t j = 0; j < l.Cg; ++j) {
        const T* x = inp + ng * len + j * l.S;
        const T* dy = dout + ng * len + j * l.S;
        T* dx = dinp + ng * len + j * l.S;
        T w = weight ? weight[c0 + j] : T(1);
        for (int64_t i = 0; i < l.S; ++i) dx[i] = (dy[i] * w - a - (x[i] - m) * rs * c) * rs;
      }
    }
  });
  for (int64_t c = 0; c < l.C; ++c) {
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < l.N; ++n) {
      sw += sum_dy_xhat[n * l.C + c];
      sb += sum_dy[n * l.C + c];
    }
    if (dweight) dweight[c] = static_cast<T>(sw);
    if (dbias) dbias[c] = static_cast<T>(sb);
  }
}


#ifdef TR_HAVE_AVX512
namespace fast {
using namespace vec;

// y = xhat * w + b, then SiLU when `silu`; S is the storage type (float, or uint16_t for bf16).
template <typename S>
void groupnorm_forward(S* out, float* mean, float* rstd,                     // (N, C, S), (N, G), (N, G)
                       const S* inp, const S* weight, const S* bias,         // (N, C, S), (C) or null, (C) or null
                       GroupLayout l, double eps, bool silu) {
  int64_t len = l.Cg * l.S;
  parallel_for(l.N * l.G, std::max<int64_t>(1, 16384 / len), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      const S* x = inp + ng * len;
      S* y = out + ng * len;
      float m = static_cast<float>(sum_blocks(len, [&](int64_t i, __mmask16 k) { return load16(x + i, k); }) / static_cast<double>(len));
      __m512 mv = _mm512_set1_ps(m);
      double var = sum_blocks(len, [&](int64_t i, __mmask16 k) {
                     __m512 d = _mm512_sub_ps(load16(x + i, k), mv);
                     return _mm512_mul_ps(d, d);
                   }) / static_cast<double>(len);
      float rs = static_cast<float>(1.0 / std::sqrt(var + eps));
      mean[ng] = m;
      rstd[ng] = rs;
      int64_t c0 = (ng % l.G) * l.Cg;
      for (int64_t j = 0; j < l.Cg; ++j) {
        float scale = rs * (weight ? to_f32(weight[c0 + j]) : 1.0f);
        __m512 sc = _mm512_set1_ps(scale), off = _mm512_set1_ps((bias ? to_f32(bias[c0 + j]) : 0.0f) - m * scale);
        const S* xc = x + j * l.S;
        S* yc = y + j * l.S;
        for (int64_t i = 0; i < l.S; i += 16) {
          __mmask16 k = lanes(l.S - i);
          __m512 z = _mm512_fmadd_ps(load16(xc + i, k), sc, off);
          store16(yc + i, silu ? silu512(z) : z, k);
        }
      }
    }
  });
}

// dinp (N, C, S) or null; dweight, dbias (C) or null. With `silu` the incoming gradient is first taken
// through SiLU at the recomputed pre-activation z = xhat * w + b, into a per-thread buffer.
template <typename S>
void groupnorm_backward(S* dinp, S* dweight, S* dbias, const S* dout, const S* inp, const S* weight, const S* bias,
                        const float* mean, const float* rstd, GroupLayout l, bool silu) {
  int64_t len = l.Cg * l.S;
  std::vector<double> sum_dy(static_cast<size_t>(l.N * l.C)), sum_dy_xhat(static_cast<size_t>(l.N * l.C));
  parallel_for(l.N * l.G, std::max<int64_t>(1, 8192 / len), [&](int64_t b, int64_t e) {
    std::vector<float> dz_buf(silu ? static_cast<size_t>(len) : 0);
    for (int64_t ng = b; ng < e; ++ng) {
      int64_t n = ng / l.G, c0 = (ng % l.G) * l.Cg;
      float m = mean[ng], rs = rstd[ng];
      __m512 mv = _mm512_set1_ps(m);
      // 1. per channel: sum of dz and of dz * (x - mean); dz = dy, or dy * silu'(z)
      double a = 0, c = 0;
      for (int64_t j = 0; j < l.Cg; ++j) {
        const S* x = inp + ng * len + j * l.S;
        const S* dy = dout + ng * len + j * l.S;
        float w = weight ? to_f32(weight[c0 + j]) : 1.0f;
        if (silu) {
          float* dz = dz_buf.data() + j * l.S;
          __m512 sc = _mm512_set1_ps(rs * w), off = _mm512_set1_ps((bias ? to_f32(bias[c0 + j]) : 0.0f) - m * rs * w);
          for (int64_t i = 0; i < l.S; i += 16) {
            __mmask16 k = lanes(l.S - i);
            _mm512_mask_storeu_ps(dz + i, k, _mm512_mul_ps(load16(dy + i, k), dsilu512(_mm512_fmadd_ps(load16(x + i, k), sc, off))));
          }
        }
        double sd = 0, sdx = 0;
        for (int64_t b0 = 0; b0 < l.S; b0 += 1024) {
          __m512 acc = _mm512_setzero_ps(), accx = _mm512_setzero_ps();
          for (int64_t i = b0; i < std::min(l.S, b0 + 1024); i += 16) {
            __mmask16 k = lanes(l.S - i);
            __m512 g = silu ? _mm512_maskz_loadu_ps(k, dz_buf.data() + j * l.S + i) : load16(dy + i, k);
            acc = _mm512_add_ps(acc, g);
            accx = _mm512_fmadd_ps(g, _mm512_maskz_sub_ps(k, load16(x + i, k), mv), accx);
          }
          sd += _mm512_reduce_add_ps(acc);
          sdx += _mm512_reduce_add_ps(accx);
        }
        sum_dy[n * l.C + c0 + j] = sd;
        sum_dy_xhat[n * l.C + c0 + j] = sdx * rs;
        a += w * sd;
        c += w * sdx * rs;
      }
      if (!dinp) continue;
      // 2. dx = rstd * (dz * w - mean(dz * w) - xhat * mean(dz * w * xhat)) = dz * k1 + x * k2 + k3
      float fa = static_cast<float>(a / static_cast<double>(len)), fc = static_cast<float>(c / static_cast<double>(len));
      __m512 k2 = _mm512_set1_ps(-rs * rs * fc), k3 = _mm512_set1_ps(rs * rs * fc * m - rs * fa);
      for (int64_t j = 0; j < l.Cg; ++j) {
        const S* x = inp + ng * len + j * l.S;
        const S* dy = dout + ng * len + j * l.S;
        S* dx = dinp + ng * len + j * l.S;
        __m512 k1 = _mm512_set1_ps(rs * (weight ? to_f32(weight[c0 + j]) : 1.0f));
        for (int64_t i = 0; i < l.S; i += 16) {
          __mmask16 k = lanes(l.S - i);
          __m512 g = silu ? _mm512_maskz_loadu_ps(k, dz_buf.data() + j * l.S + i) : load16(dy + i, k);
          store16(dx + i, _mm512_fmadd_ps(g, k1, _mm512_fmadd_ps(load16(x + i, k), k2, k3)), k);
        }
      }
    }
  });
  for (int64_t c = 0; c < l.C; ++c) {
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < l.N; ++n) {
      sw += sum_dy_xhat[n * l.C + c];
      sb += sum_dy[n * l.C + c];
    }
    float fw = static_cast<float>(sw), fb = static_cast<float>(sb);
    if (dweight) store16(dweight + c, _mm512_set1_ps(fw), 1);
    if (dbias) store16(dbias + c, _mm512_set1_ps(fb), 1);
  }
}
}  // namespace fast
#endif

void check_affine(const Tensor& t, int64_t C, const Tensor& x, const char* op, const char* name) {
  if (!t.defined()) return;
  check_float(t, op, name);
  check_same_dtype(x, t, op);
  check(t.rank() == 1 && t.shape()[0] == C, ErrorCode::SHAPE_MISMATCH, "Expected a ", name, " of shape [", C, "] for ", op,
        " but received ", shape_str(t.shape()));
}

template <typename T>
T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

bool fast_dtype(DType d) {
#ifdef TR_HAVE_AVX512
  return d == DType::F32 || d == DType::BF16;
#else
  (void)d;
  return false;
#endif
}

// group_norm, and with `silu` group_norm_silu; `op` names the op in errors.
Tensor group_norm_impl(const Tensor& x_in, int64_t groups, const Tensor& w_in, const Tensor& b_in, double eps, bool silu, const char* op) {
  check_float(x_in, op, "x");
  Device dev = op_device(op, x_in, w_in, b_in);
  check(x_in.rank() >= 2, ErrorCode::SHAPE_MISMATCH, "Expected an input of shape [N, C, ...] for ", op, " but received ",
        shape_str(x_in.shape()));
  int64_t C = x_in.shape()[1];
  check(groups >= 1, ErrorCode::INVALID_ARGUMENT, "Expected groups >= 1 for ", op, " but received ", groups);
  check(C % groups == 0, ErrorCode::SHAPE_MISMATCH, "Expected an input [N, C, ...] with C divisible by ", groups, " groups for ", op,
        " but received ", shape_str(x_in.shape()));
  check(eps >= 0, ErrorCode::INVALID_ARGUMENT, "Expected eps >= 0 for ", op, " but received ", eps);
  check_affine(w_in, C, x_in, op, "weight");
  check_affine(b_in, C, x_in, op, "bias");
  GroupLayout l;
  l.N = x_in.shape()[0];
  l.C = C;
  l.G = groups;
  l.Cg = C / groups;
  for (int i = 2; i < x_in.rank(); ++i) l.S *= x_in.shape()[i];
  bool cuda = dev == Device::CUDA;  // native/cuda/group_norm.cu: any float dtype, SiLU fused
  bool fast = !cuda && fast_dtype(x_in.dtype()) && l.Cg * l.S > 0;
  if (!cuda && !fast && silu) return tr::silu(group_norm_impl(x_in, groups, w_in, b_in, eps, false, op));  // the reference composition
  if (!cuda && !fast && lowp(x_in)) return cast(group_norm_impl(up(x_in), groups, up(w_in), up(b_in), eps, false, op), x_in.dtype());

  Tensor x = contiguous(x_in), w = w_in.defined() ? contiguous(w_in) : Tensor(), b = b_in.defined() ? contiguous(b_in) : Tensor();
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  DType stat_dt = fast ? DType::F32 : compute_dtype(x.dtype());
  Tensor mean = empty({l.N, l.G}, stat_dt, dev), rstd = empty({l.N, l.G}, stat_dt, dev);
#ifdef TR_HAVE_CUDA
  if (cuda) cuda_groupnorm_forward(out, mean, rstd, x, w, b, l.N, l.C, l.G, l.S, eps, silu);
#endif
#ifdef TR_HAVE_AVX512
  if (fast) {
    if (x.dtype() == DType::F32)
      fast::groupnorm_forward<float>(out.data<float>(), mean.data<float>(), rstd.data<float>(), x.data<float>(), opt<float>(w),
                                     opt<float>(b), l, eps, silu);
    else
      fast::groupnorm_forward<uint16_t>(out.data<uint16_t>(), mean.data<float>(), rstd.data<float>(), x.data<uint16_t>(),
                                        opt<uint16_t>(w), opt<uint16_t>(b), l, eps, silu);
  }
#endif
  if (!cuda && !fast && l.Cg * l.S > 0) TR_FLOAT_DISPATCH(x.dtype(), T, {  // empty groups: nothing to normalise
    groupnorm_forward<T>(out.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), opt<T>(w), opt<T>(b), l, eps);
  });

  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.defined() && w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    Tensor sx = x.detach(), sw = w.defined() ? w.detach() : Tensor(), sb = silu && b.defined() ? b.detach() : Tensor();
    record(out, silu ? Op::GroupNormSilu : Op::GroupNorm, {x_in, w_in, b_in},
           [sx, sw, sb, mean, rstd, gx, gw, gb, l, fast, silu](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx = gx ? empty(sx.shape(), sx.dtype(), sx.device()) : Tensor();
      Tensor dw = gw ? empty({l.C}, sx.dtype(), sx.device()) : Tensor();
      Tensor db = gb ? empty({l.C}, sx.dtype(), sx.device()) : Tensor();
#ifdef TR_HAVE_CUDA
      if (sx.device() == Device::CUDA) {
        cuda_groupnorm_backward(dx, dw, db, dout, sx, sw, sb, mean, rstd, l.N, l.C, l.G, l.S, silu);
        return {dx, dw, db};
      }
#endif
#ifdef TR_HAVE_AVX512
      if (fast) {
        if (sx.dtype() == DType::F32)
          fast::groupnorm_backward<float>(opt<float>(dx), opt<float>(dw), opt<float>(db), dout.data<float>(),
                                          sx.data<float>(), opt<float>(sw), opt<float>(sb), mean.data<float>(),
                                          rstd.data<float>(), l, silu);
        else
          fast::groupnorm_backward<uint16_t>(opt<uint16_t>(dx), opt<uint16_t>(dw), opt<uint16_t>(db),
                                             dout.data<uint16_t>(), sx.data<uint16_t>(), opt<uint16_t>(sw),
                                             opt<uint16_t>(sb), mean.data<float>(), rstd.data<float>(), l, silu);
        return {dx, dw, db};
      }
#endif
      TR_FLOAT_DISPATCH(sx.dtype(), T, {
        groupnorm_backward<T>(opt<T>(dx), opt<T>(dw), opt<T>(db), dout.data<T>(), sx.data<T>(),
                              opt<T>(sw), mean.data<T>(), rstd.data<T>(), l);
      });
      return {dx, dw, db};
    });
  }
  return out;
}

}  // namespace

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps) {
  return group_norm_impl(x, groups, weight, bias, eps, false, "groupNorm");
}

Tensor group_norm_silu(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps) {
  return group_norm_impl(x, groups, weight, bias, eps, true, "groupNormSilu");
}

}  // namespace tr
