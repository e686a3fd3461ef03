// layer_norm.cpp: y = (x - mean) * rstd * weight + bias over the last `norm_dims` dims, x viewed as
// (rows, D) with D the product of those dims; weight/bias (D) or undefined. Forward and backward
// are fused row kernels (llm.c's layernorm_forward / layernorm_backward); mean and rstd are saved per row.
// Fast path (float32 and bfloat16 storage on AVX-512 targets): the same row kernels vectorised, the
// statistics by two passes over the row (in L1), bf16 read and written as bf16 and computed in f32;
// the plain loops are the float64 path and the reference. On cuda: native/cuda/layer_norm.cu (any float
// dtype, statistics in f32, f64 for f64).
// Accumulation rule: every gradient here is fresh (=); dweight/dbias sum over rows in double.
#include <vector>

#include "cpu/kernel_util.h"
#include "cpu/vec_avx512.h"

namespace tr {

namespace {

// Rows per block of the backward's parameter-gradient partial sums. The block count depends only on
// the shape, so the result does not depend on the thread count.
constexpr int64_t kNormBlocks = 32;

// Mean and 1/sqrt(var + eps) of n values, one pass in double, shifted by the first value so a large
// mean does not cancel the variance.
template <typename T>
inline void row_stats(const T* x, int64_t n, double eps, double& mean, double& rstd) {
  double shift = static_cast<double>(x[0]), s = 0, ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = static_cast<double>(x[i]) - shift;
    s += d;
    ss += d * d;
  }
  double m = s / static_cast<double>(n);
  double var = std::max(ss / static_cast<double>(n) - m * m, 0.0);
  mean = shift + m;
  rstd = 1.0 / std::sqrt(var + eps);
}

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd,                     // (rows, D), (rows), (rows)
                       const T* inp, const T* weight, const T* bias,  // (rows, D), (D) or null, (D) or null
                       int64_t rows, int64_t D, double eps) {
  parallel_for(rows, std::max<int64_t>(1, 4096 / D), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* x = inp + r * D;
      T* y = out + r * D;
      double m, rs;
      row_stats(x, D, eps, m, rs);
      T tm = static_cast<T>(m), trs = static_cast<T>(rs);
      for (int64_t i = 0; i < D; ++i) {
        T v = (x[i] - tm) * trs;
        if (weight) v *= weight[i];
        if (bias) v += bias[i];
        y[i] = v;
      }
      mean[r] = tm;
      rstd[r] = trs;
    }
  });
}

// dinp (rows, D) or null; dweight, dbias (D) or null; weight (D) or null (= ones).
template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const T* mean,
                        const T* rstd, int64_t rows, int64_t D) {
  bool params = dweight || dbias;
  int64_t blocks = std::min(rows, kNormBlocks), per = (rows + blocks - 1) / std::max<int64_t>(blocks, 1);
  std::vector<double> part(params ? static_cast<size_t>(blocks * 2 * D) : 0, 0.0);  // (blocks, 2, D): dweight, dbias
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      double* pw = params ? part.data() + blk * 2 * D : nullptr;
      double* pb = params ? pw + D : nullptr;
      for (int64_t r = blk * per; r < std::min(rows, (blk + 1) * per); ++r) {
        const T* x = inp + r * D;
        const T* dy = dout + r * D;
        T m = mean[r], rs = rstd[r];
        if (params)
          for (int64_t i = 0; i < D; ++i) {
            double n = static_cast<double>((x[i] - m) * rs);
            pw[i] += n * dy[i];
            pb[i] += dy[i];
          }
        if (!dinp) continue;
        // dnorm = weight * dy; dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
        double dnorm_mean = 0, dnorm_norm_mean = 0;
        for (int64_t i = 0; i < D; ++i) {
          double dn = static_cast<double>(weight ? weight[i] * dy[i] : dy[i]);
          dnorm_mean += dn;
          dnorm_norm_mean += dn * static_cast<double>((x[i] - m) * rs);
        }
        T a = static_cast<T>(dnorm_mean / static_cast<double>(D)), c = static_cast<T>(dnorm_norm_mean / static_cast<double>(D));
        T* dx = dinp + r * D;
        for (int64_t i = 0; i < D; ++i) {
          T n = (x[i] - m) * rs;
          T dn = weight ? weight[i] * dy[i] : dy[i];
          dx[i] = (dn - a - n * c) * rs;
        }
      }
    }
  });
  if (!params) return;
  for (int64_t i = 0; i < D; ++i) {
    double sw = 0, sb = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      sw += part[blk * 2 * D + i];
      sb += part[blk * 2 * D + D + i];
    }
    if (dweight) dweight[i] = static_cast<T>(sw);
    if (dbias) dbias[i] = static_cast<T>(sb);
  }
}


#ifdef TR_HAVE_AVX512
namespace fast {
using namespace vec;

template <typename S>  // storage: float, or uint16_t for bf16
void layernorm_forward(S* out, float* mean, float* rstd, const S* inp, const S* weight, const S* bias, int64_t rows, int64_t D,
                       double eps) {
  parallel_for(rows, std::max<int64_t>(1, 8192 / D), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const S* x = inp + r * D;
      S* y = out + r * D;
      float m = static_cast<float>(sum_blocks(D, [&](int64_t i, __mmask16 k) { return load16(x + i, k); }) / static_cast<double>(D));
      __m512 mv = _mm512_set1_ps(m);
      double var = sum_blocks(D, [&](int64_t i, __mmask16 k) {
                     __m512 d = _mm512_sub_ps(load16(x + i, k), mv);
                     return _mm512_mul_ps(d, d);
                   }) / static_cast<double>(D);
      float rs = static_cast<float>(1.0 / std::sqrt(var + eps));
      mean[r] = m;
      rstd[r] = rs;
      __m512 rv = _mm512_set1_ps(rs), off = _mm512_set1_ps(-m * rs);
      for (int64_t i = 0; i < D; i += 16) {
        __mmask16 k = lanes(D - i);
        __m512 z = _mm512_fmadd_ps(load16(x + i, k), rv, off);
        if (weight) z = _mm512_mul_ps(z, load16(weight + i, k));
        if (bias) z = _mm512_add_ps(z, load16(bias + i, k));
        store16(y + i, z, k);
      }
    }
  });
}

template <typename S>
void layernorm_backward(S* dinp, S* dweight, S* dbias, const S* dout, const S* inp, const S* weight, const float* mean,
                        const float* rstd, int64_t rows, int64_t D) {
  bool params = dweight || dbias;
  int64_t blocks = std::min(rows, kNormBlocks), per = (rows + blocks - 1) / std::max<int64_t>(blocks, 1);
  std::vector<float> part(params ? static_cast<size_t>(blocks * 2 * D) : 0, 0.0f);  // (blocks, 2, D): dweight, dbias
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      float* pw = params ? part.data() + blk * 2 * D : nullptr;
      float* pb = params ? pw + D : nullptr;
      for (int64_t r = blk * per; r < std::min(rows, (blk + 1) * per); ++r) {
        const S* x = inp + r * D;
        const S* dy = dout + r * D;
        __m512 mv = _mm512_set1_ps(mean[r]), rv = _mm512_set1_ps(rstd[r]);
        // 1. dnorm = weight * dy: its mean and the mean of dnorm * xhat; the parameter partial sums
        __m512 sa = _mm512_setzero_ps(), sc = _mm512_setzero_ps();
        for (int64_t i = 0; i < D; i += 16) {
          __mmask16 k = lanes(D - i);
          __m512 g = load16(dy + i, k), xh = _mm512_maskz_mul_ps(k, _mm512_sub_ps(load16(x + i, k), mv), rv);
          if (params) {
            _mm512_mask_storeu_ps(pw + i, k, _mm512_fmadd_ps(g, xh, _mm512_maskz_loadu_ps(k, pw + i)));
            _mm512_mask_storeu_ps(pb + i, k, _mm512_add_ps(g, _mm512_maskz_loadu_ps(k, pb + i)));
          }
          __m512 dn = weight ? _mm512_mul_ps(g, load16(weight + i, k)) : g;
          sa = _mm512_add_ps(sa, dn);
          sc = _mm512_fmadd_ps(dn, xh, sc);
        }
        if (!dinp) continue;
        // 2. dx = rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat))
        __m512 a = _mm512_set1_ps(_mm512_reduce_add_ps(sa) / static_cast<float>(D));
        __m512 c = _mm512_set1_ps(_mm512_reduce_add_ps(sc) / static_cast<float>(D));
        S* dx = dinp + r * D;
        for (int64_t i = 0; i < D; i += 16) {
          __mmask16 k = lanes(D - i);
          __m512 g = load16(dy + i, k), xh = _mm512_mul_ps(_mm512_sub_ps(load16(x + i, k), mv), rv);
          __m512 dn = weight ? _mm512_mul_ps(g, load16(weight + i, k)) : g;
          store16(dx + i, _mm512_mul_ps(rv, _mm512_sub_ps(_mm512_sub_ps(dn, a), _mm512_mul_ps(xh, c))), k);
        }
      }
    }
  });
  if (!params) return;
  for (int64_t i = 0; i < D; ++i) {
    double sw = 0, sb = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      sw += part[blk * 2 * D + i];
      sb += part[blk * 2 * D + D + i];
    }
    if (dweight) store16(dweight + i, _mm512_set1_ps(static_cast<float>(sw)), 1);
    if (dbias) store16(dbias + i, _mm512_set1_ps(static_cast<float>(sb)), 1);
  }
}
}  // namespace fast
#endif

template <typename T>
T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

void check_affine(const Tensor& t, const Shape& norm_shape, const Tensor& x, const char* name) {
  if (!t.defined()) return;
  check_float(t, "layerNorm", name);
  check_same_dtype(x, t, "layerNorm");
  check(t.shape() == norm_shape, ErrorCode::SHAPE_MISMATCH, "Expected a ", name, " of shape ", shape_str(norm_shape),
        " for layerNorm but received ", shape_str(t.shape()));
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, int norm_dims, const Tensor& w_in, const Tensor& b_in, double eps) {
  check_float(x_in, "layerNorm", "x");
  Device dev = op_device("layerNorm", x_in, w_in, b_in);
  check(norm_dims >= 1 && norm_dims <= x_in.rank(), ErrorCode::INVALID_ARGUMENT, "Expected normDims in [1, ", x_in.rank(),
        "] for layerNorm of an input of shape ", shape_str(x_in.shape()), " but received ", norm_dims);
  check(eps >= 0, ErrorCode::INVALID_ARGUMENT, "Expected eps >= 0 for layerNorm but received ", eps);
  Shape norm_shape(x_in.shape().end() - norm_dims, x_in.shape().end());
  check_affine(w_in, norm_shape, x_in, "weight");
  check_affine(b_in, norm_shape, x_in, "bias");
  int64_t D = shape_numel(norm_shape);
  check(D > 0, ErrorCode::INVALID_ARGUMENT, "Expected a non-empty normalised shape for layerNorm but received ", shape_str(norm_shape));
#ifdef TR_HAVE_AVX512
  bool fast = dev == Device::CPU && (x_in.dtype() == DType::F32 || x_in.dtype() == DType::BF16);
#else
  bool fast = false;
#endif
  if (!fast && promote(x_in)) return cast(layer_norm(up(x_in), norm_dims, up(w_in), up(b_in), eps), x_in.dtype());

  Tensor x = contiguous(x_in), w = w_in.defined() ? contiguous(w_in) : Tensor(), b = b_in.defined() ? contiguous(b_in) : Tensor();
  int64_t rows = x.numel() / D;
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  DType stat_dt = fast ? DType::F32 : compute_dtype(x.dtype());  // cuda: f32 stats for bf16/f16
  Tensor mean = empty({rows}, stat_dt, dev), rstd = empty({rows}, stat_dt, dev);
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA) cuda_layernorm_forward(out, mean, rstd, x, w, b, rows, D, eps);
#endif
#ifdef TR_HAVE_AVX512
  if (fast && x.dtype() == DType::F32)
    fast::layernorm_forward<float>(out.data<float>(), mean.data<float>(), rstd.data<float>(), x.data<float>(), opt<float>(w), opt<float>(b),
                                   rows, D, eps);
  if (fast && x.dtype() == DType::BF16)
    fast::layernorm_forward<uint16_t>(out.data<uint16_t>(), mean.data<float>(), rstd.data<float>(), x.data<uint16_t>(), opt<uint16_t>(w),
                                      opt<uint16_t>(b), rows, D, eps);
#endif
  if (!fast && dev == Device::CPU) TR_FLOAT_DISPATCH(x.dtype(), T, {
    layernorm_forward<T>(out.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), opt<T>(w), opt<T>(b), rows, D, eps);
  });

  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.defined() && w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    Tensor sx = x.detach(), sw = w.defined() ? w.detach() : Tensor();
    record(out, Op::LayerNorm, {x_in, w_in, b_in},
           [sx, sw, mean, rstd, gx, gw, gb, rows, D, norm_shape, fast](const Tensor& dout) -> std::vector<Tensor> {
             Tensor dx = gx ? empty(sx.shape(), sx.dtype(), sx.device()) : Tensor();
             Tensor dw = gw ? empty(norm_shape, sx.dtype(), sx.device()) : Tensor();
             Tensor db = gb ? empty(norm_shape, sx.dtype(), sx.device()) : Tensor();
#ifdef TR_HAVE_CUDA
             if (sx.device() == Device::CUDA) {
               cuda_layernorm_backward(dx, dw, db, dout, sx, sw, mean, rstd, rows, D);
               return {dx, dw, db};
             }
#endif
#ifdef TR_HAVE_AVX512
             if (fast && sx.dtype() == DType::F32)
               fast::layernorm_backward<float>(opt<float>(dx), opt<float>(dw), opt<float>(db), dout.data<float>(), sx.data<float>(),
                                               opt<float>(sw), mean.data<float>(), rstd.data<float>(), rows, D);
             if (fast && sx.dtype() == DType::BF16)
               fast::layernorm_backward<uint16_t>(opt<uint16_t>(dx), opt<uint16_t>(dw), opt<uint16_t>(db), dout.data<uint16_t>(),
                                                  sx.data<uint16_t>(), opt<uint16_t>(sw), mean.data<float>(), rstd.data<float>(), rows, D);
             if (fast) return {dx, dw, db};
#endif
             TR_FLOAT_DISPATCH(sx.dtype(), T, {
               layernorm_backward<T>(opt<T>(dx), opt<T>(dw), opt<T>(db), dout.data<T>(), sx.data<T>(), opt<T>(sw), mean.data<T>(),
                                     rstd.data<T>(), rows, D);
             });
             return {dx, dw, db};
           });
  }
  return out;
}

}  // namespace tr
