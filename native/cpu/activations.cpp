// activations.cpp: tanh, sigmoid, log-sigmoid, relu, gelu (exact and tanh), silu, clamp.
#include "cpu/unary_op.h"
#include "cpu/vec_avx512.h"

namespace tr {

namespace {
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename T> T sigmoid_of(T x) {
  return x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}
}  // namespace

Tensor tanh(const Tensor& a) {
  if (promote(a)) return cast(tanh(up(a)), a.dtype());
  return unary_op(a, Op::Tanh, "tanh", [](auto x) { return std::tanh(x); }, [](auto d, auto, auto y) { return d * (1 - y * y); });
}

Tensor sigmoid(const Tensor& a) {
  if (promote(a)) return cast(sigmoid(up(a)), a.dtype());
  return unary_op(a, Op::Sigmoid, "sigmoid", [](auto x) { return sigmoid_of(x); }, [](auto d, auto, auto y) { return d * y * (1 - y); });
}

// log sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)); d/dx = sigmoid(-x) = 1 - sigmoid(x).
Tensor log_sigmoid(const Tensor& a) {
  if (promote(a)) return cast(log_sigmoid(up(a)), a.dtype());
  return unary_op(
      a, Op::LogSigmoid, "logSigmoid", [](auto x) { return std::min(x, decltype(x)(0)) - std::log1p(std::exp(-std::abs(x))); },
      [](auto d, auto x, auto) { return d * sigmoid_of(-x); });
}

Tensor relu(const Tensor& a) {
  if (promote(a)) return cast(relu(up(a)), a.dtype());
  return unary_op(a, Op::Relu, "relu", [](auto x) { return x > 0 ? x : x * 0; }, [](auto d, auto x, auto) { return x > 0 ? d : d * 0; });
}

#ifdef TR_HAVE_AVX512
namespace {
// y = f(x) and dx = d * df(x) over 16 lanes at a time (masked tail), split over the threads: the
// float32 fast paths of the activations below.
template <typename F>
void map16(const float* x, float* y, int64_t n, F f) {
  parallel_for(n, kGrainElementwise, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i += 16) {
      __mmask16 k = vec::lanes(e - i);
      vec::store16(y + i, f(vec::load16(x + i, k)), k);
    }
  });
}
template <typename F>
void map16_backward(const float* d, const float* x, float* dx, int64_t n, F df) {
  parallel_for(n, kGrainElementwise, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i += 16) {
      __mmask16 k = vec::lanes(e - i);
      vec::store16(dx + i, _mm512_mul_ps(vec::load16(d + i, k), df(vec::load16(x + i, k))), k);
    }
  });
}

// float32 exact GELU on 16 lanes: the plain loop's std::erf per element was 7% of a UNet step (GEGLU)
// here. Phi(x) = 0.5 (1 + erf(x / sqrt 2)) by Abramowitz & Stegun 7.1.26, erfc(a) = t P(t) exp(-a^2),
// t = 1 / (1 + p a), absolute error at most 1.5e-7 (the formula PyTorch's and oneDNN's vectorised erf
// use); the lower tail is computed as 0.5 erfc(|z|) directly, not as 1 - erf, so it keeps its relative
// accuracy where gelu(x) is tiny.
inline __m512 normal_cdf512(__m512 x, __m512& pdf) {
  const __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f));
  const __m512 a = _mm512_abs_ps(z);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  const __m512 e = vec::exp512(_mm512_mul_ps(_mm512_mul_ps(z, z), _mm512_set1_ps(-1.0f)));  // exp(-x^2 / 2)
  pdf = _mm512_mul_ps(e, _mm512_set1_ps(0.39894228040143267794f));
  const __m512 tail = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), _mm512_mul_ps(p, t)), e);  // 0.5 erfc(|z|)
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(1.0f), tail), tail);
}
void gelu_f32(const float* x, float* y, int64_t n) {
  map16(x, y, n, [](__m512 v) {
    __m512 pdf;
    return _mm512_mul_ps(v, normal_cdf512(v, pdf));
  });
}
void gelu_backward_f32(const float* d, const float* x, float* dx, int64_t n) {  // d (Phi(x) + x phi(x))
  map16_backward(d, x, dx, n, [](__m512 v) {
    __m512 pdf;
    __m512 cdf = normal_cdf512(v, pdf);
    return _mm512_fmadd_ps(v, pdf, cdf);
  });
}
}  // namespace
#endif

Tensor gelu(const Tensor& a, bool tanh_approx) {
  if (promote(a)) return cast(gelu(up(a), tanh_approx), a.dtype());
  if (tanh_approx) {
    return unary_op(
        a, Op::GeluTanh, "gelu",
        [](auto x) {
          using T = decltype(x);
          T u = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
          return T(0.5) * x * (T(1) + std::tanh(u));
        },
        [](auto d, auto x, auto) {
          using T = decltype(x);
          T u = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
          T t = std::tanh(u);
          T du = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
          return d * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
        });
  }
#ifdef TR_HAVE_AVX512
  static const UnaryF32Kernels kGeluF32{gelu_f32, gelu_backward_f32};
  const UnaryF32Kernels* fast = &kGeluF32;
#else
  const UnaryF32Kernels* fast = nullptr;
#endif
  return unary_op(
      a, Op::Gelu, "gelu",
      [](auto x) {
        using T = decltype(x);
        return T(0.5) * x * (T(1) + std::erf(x / T(kSqrt2)));
      },
      [](auto d, auto x, auto) {
        using T = decltype(x);
        T cdf = T(0.5) * (T(1) + std::erf(x / T(kSqrt2)));
        T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
        return d * (cdf + x * pdf);
      },
      0, 0, fast);
}

#ifdef TR_HAVE_AVX512
namespace {
// float32 SiLU on 16 lanes (vec_avx512.h's exp): the plain loop's std::exp per element made a lone
// SiLU cost five times a group norm of the same size.
using namespace vec;
void silu_f32(const float* x, float* y, int64_t n) { map16(x, y, n, [](__m512 v) { return silu512(v); }); }
void silu_backward_f32(const float* d, const float* x, float* dx, int64_t n) { map16_backward(d, x, dx, n, [](__m512 v) { return dsilu512(v); }); }
}  // namespace
#endif

Tensor silu(const Tensor& a) {
  if (promote(a)) return cast(silu(up(a)), a.dtype());
#ifdef TR_HAVE_AVX512
  static const UnaryF32Kernels kSiluF32{silu_f32, silu_backward_f32};
  const UnaryF32Kernels* fast = &kSiluF32;
#else
  const UnaryF32Kernels* fast = nullptr;
#endif
  return unary_op(
      a, Op::Silu, "silu", [](auto x) { return x * sigmoid_of(x); },
      [](auto d, auto x, auto) {
        auto s = sigmoid_of(x);
        return d * s * (1 + x * (1 - s));
      },
      0, 0, fast);
}

Tensor clamp(const Tensor& a, double lo, double hi) {
  check(lo <= hi, ErrorCode::INVALID_ARGUMENT, "Expected min <= max for clamp but received min ", lo, " and max ", hi);
  if (promote(a)) return cast(clamp(up(a), lo, hi), a.dtype());
  return unary_op(
      a, Op::Clamp, "clamp",
      [lo, hi](auto x) {
        using T = decltype(x);
        return std::min(std::max(x, T(lo)), T(hi));
      },
      [lo, hi](auto d, auto x, auto) { return (x >= lo && x <= hi) ? d : d * 0; }, lo, hi);
}

}  // namespace tr
