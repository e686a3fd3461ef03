// vec_avx512.h: AVX-512 pieces shared by the fast CPU kernels: a vectorised exp, and mac(), a small
// matrix multiply-accumulate C (I x W) (+)= A (I x K) @ B (K x W) whose B rows are a few vectors
// wide (W <= 16 * kMacMaxVectors, any W: the last vector is masked) and whose A is read by scalar
// broadcasts with any strides, so that a transposed operand needs no copy; with AVX512-BF16, mac_bf16(),
// the same on bf16 pairs (vdpbf16ps). Compiled only when the target has AVX-512 (TR_HAVE_AVX512);
// the callers keep their plain loops for the other targets.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define TR_HAVE_AVX512 1
#include <immintrin.h>

// GCC 12's own intrinsics trip -Wmaybe-uninitialized (and, inlined in some callers, -Wuninitialized) on their
// internal _mm512_undefined_ps (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace tr::vec {

// exp(x) for 16 lanes: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by Cephes' expf polynomial
// (relative error at most 1.2e-7 on [-87, 88], measured against std::exp in double on a 0.0007
// grid), 2^n applied by scalef, which also flushes to 0 below about -104 and gives +inf above 88.7.
// exp(-inf) = 0; NaN stays NaN.
inline __m512 exp512(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-104.0f), hi = _mm512_set1_ps(88.8f);
  x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));  // operand order keeps NaN (maxps returns its second operand on NaN)
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln2 in two parts (Cody-Waite)
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// Lanes [0, n) of a vector, n in [0, 16].
inline __mmask16 lanes(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }

// 16 values of a float32 or bfloat16 (uint16_t) buffer as float32, and back (bf16 rounded to nearest
// even; NaN stays NaN). Masked-off lanes read as 0 and are not written.
inline __m512 load16(const float* p, __mmask16 m = 0xffff) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const uint16_t* p, __mmask16 m = 0xffff) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}
inline void store16(float* p, __m512 v, __mmask16 m = 0xffff) { _mm512_mask_storeu_ps(p, m, v); }
inline void store16(uint16_t* p, __m512 v, __mmask16 m = 0xffff) {
#ifdef __AVX512BF16__
  __m256i h = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
#else
  __m512i u = _mm512_castps_si512(v);
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
  __m256i h = _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
#endif
  _mm256_mask_storeu_epi16(p, m, h);
}
inline float to_f32(float x) { return x; }
inline float to_f32(uint16_t x) {
  uint32_t u = static_cast<uint32_t>(x) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

// Sum over lanes of f(i, mask) (16 values at i, lanes beyond n masked off) for i in [0, n), in float32 lanes over blocks of 1024 values
// and float64 across blocks: accurate to about 1e-7 relative at any n.
template <typename F>
inline double sum_blocks(int64_t n, F f) {
  double total = 0;
  for (int64_t b = 0; b < n; b += 1024) {
    __m512 acc = _mm512_setzero_ps();
    int64_t e = b + 1024 < n ? b + 1024 : n;
    for (int64_t i = b; i < e; i += 16) {
      __mmask16 m = lanes(e - i);
      acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(m, f(i, m)));
    }
    total += static_cast<double>(_mm512_reduce_add_ps(acc));
  }
  return total;
}

// x / (1 + exp(-x)) and its derivative sigmoid(x) (1 + x (1 - sigmoid(x))).
inline __m512 silu512(__m512 x) {
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}
inline __m512 dsilu512(__m512 x) {
  __m512 one = _mm512_set1_ps(1.0f);
  __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
  return _mm512_mul_ps(s, _mm512_fmadd_ps(x, _mm512_sub_ps(one, s), one));
}

// The 16 x 16 block src (rows x cols valid, row stride lds) transposed into dst (row stride ldd):
// dst[c * ldd + r] (+)= scale * src[r * lds + c] for c < cols, r in the lanes of `store` (rows beyond
// `rows` read as 0, so a full `store` zero-pads them); added to dst with `accumulate`.
inline void transpose16(float* dst, int64_t ldd, const float* src, int64_t lds, int64_t rows, int64_t cols, __mmask16 store,
                        float scale = 1.0f, bool accumulate = false) {
  __m512 r[16], t[16];
  __mmask16 cm = lanes(cols);
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(cm, src + i * lds) : _mm512_setzero_ps();
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
  __m512 sc = _mm512_set1_ps(scale);
  for (int c = 0; c < cols; ++c) {
    __m512 v = _mm512_mul_ps(r[c], sc);
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(store, dst + c * ldd));
    _mm512_mask_storeu_ps(dst + c * ldd, store, v);
  }
}

constexpr int kMacMaxVectors = 4;  // wider B goes in slices: measured faster than 5-10 vector blocks

// RI rows by NV vectors of C, accumulators in registers, over the whole K. The unroll pragmas make
// every index a constant, so GCC keeps acc in registers (without them it stores acc to the stack on
// every k: 41 instead of 108 GFLOP/s on one core).
template <int RI, int NV>
inline void mac_block(float* C, int64_t ldc, const float* A, int64_t a_si, int64_t a_sk, const float* B, int64_t ldb, int64_t K,
                      __mmask16 tail, bool accumulate) {
  __m512 acc[RI][NV];
#pragma GCC unroll 16
  for (int i = 0; i < RI; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v)
      acc[i][v] = accumulate ? _mm512_maskz_loadu_ps(v == NV - 1 ? tail : 0xffff, C + i * ldc + 16 * v) : _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const float* b = B + k * ldb;
    const float* a = A + k * a_sk;
    __m512 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(tail, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < RI; ++i) {
      __m512 ai = _mm512_set1_ps(a[i * a_si]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < RI; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(C + i * ldc + 16 * v, v == NV - 1 ? tail : 0xffff, acc[i][v]);
}

// Rows per register block for NV vectors: as many as 32 registers hold with the NV B vectors.
constexpr int rows_for(int NV) { return NV <= 2 ? 12 : NV == 3 ? 8 : 6; }

template <int R, int NV>
inline void mac_rest(int64_t r, float* C, int64_t ldc, const float* A, int64_t a_si, int64_t a_sk, const float* B, int64_t ldb,
                     int64_t K, __mmask16 tail, bool accumulate) {
  if constexpr (R > 0) {
    if (r == R) mac_block<R, NV>(C, ldc, A, a_si, a_sk, B, ldb, K, tail, accumulate);
    else mac_rest<R - 1, NV>(r, C, ldc, A, a_si, a_sk, B, ldb, K, tail, accumulate);
  }
}

template <int NV>
inline void mac_rows(float* C, int64_t ldc, const float* A, int64_t a_si, int64_t a_sk, const float* B, int64_t ldb, int64_t I,
                     int64_t K, __mmask16 tail, bool accumulate) {
  constexpr int RI = rows_for(NV);
  int64_t i = 0;
  for (; i + RI <= I; i += RI) mac_block<RI, NV>(C + i * ldc, ldc, A + i * a_si, a_si, a_sk, B, ldb, K, tail, accumulate);
  if (i < I) mac_rest<RI - 1, NV>(I - i, C + i * ldc, ldc, A + i * a_si, a_si, a_sk, B, ldb, K, tail, accumulate);
}

// C (I x W, row stride ldc) = (accumulate ? C : 0) + A @ B, with A(i, k) = A[i * a_si + k * a_sk] and
// B (K x W, row stride ldb). Columns W > 16 * kMacMaxVectors go in slices of that width.
inline void mac(float* C, int64_t ldc, const float* A, int64_t a_si, int64_t a_sk, const float* B, int64_t ldb, int64_t I, int64_t K,
                int64_t W, bool accumulate) {
  for (int64_t w0 = 0; w0 < W; w0 += 16 * kMacMaxVectors) {
    int64_t w = W - w0 < 16 * kMacMaxVectors ? W - w0 : 16 * kMacMaxVectors;
    int nv = static_cast<int>((w + 15) / 16);
    __mmask16 tail = lanes(w - 16 * (nv - 1));
    float* c = C + w0;
    const float* b = B + w0;
    switch (nv) {
      case 1: mac_rows<1>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      case 2: mac_rows<2>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      case 3: mac_rows<3>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      default: mac_rows<4>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
    }
  }
}

#ifdef __AVX512BF16__
// ---- bfloat16 products: vdpbf16ps, float32 sums ---------------------------------------------------
// A word holds two bf16 values, the first in its low half: the pair layout vdpbf16ps reads, which
// multiplies word by word and adds both products to a float32 lane.

// The 16 x 16 block of words in r transposed in registers (lane j of r[i] to lane i of r[j]); shuffles only, bit-exact.
inline void transpose16_words(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
  }
}

// mac() in bf16: C (I x W) (+)= A (I x 2K) @ B (2K x W) over K pairs, the sums in float32. A's pair (i, k)
// is the word A[i * a_si + k * a_sk] (read by broadcasts); B is K rows of W words (row stride ldb), word
// (k, w) = (B(2k, w), B(2k + 1, w)). Same blocking as mac(): RI rows by NV vectors in registers.
template <int RI, int NV>
inline void mac_bf16_block(float* C, int64_t ldc, const uint32_t* A, int64_t a_si, int64_t a_sk, const uint32_t* B, int64_t ldb,
                           int64_t K, __mmask16 tail, bool accumulate) {
  __m512 acc[RI][NV];
#pragma GCC unroll 16
  for (int i = 0; i < RI; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v)
      acc[i][v] = accumulate ? _mm512_maskz_loadu_ps(v == NV - 1 ? tail : 0xffff, C + i * ldc + 16 * v) : _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const uint32_t* b = B + k * ldb;
    const uint32_t* a = A + k * a_sk;
    __m512bh bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v)
      bv[v] = (__m512bh)(v == NV - 1 ? _mm512_maskz_loadu_epi32(tail, b + 16 * v) : _mm512_loadu_si512(b + 16 * v));
#pragma GCC unroll 16
    for (int i = 0; i < RI; ++i) {
      __m512bh ai = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[i * a_si]));
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < RI; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(C + i * ldc + 16 * v, v == NV - 1 ? tail : 0xffff, acc[i][v]);
}

template <int R, int NV>
inline void mac_bf16_rest(int64_t r, float* C, int64_t ldc, const uint32_t* A, int64_t a_si, int64_t a_sk, const uint32_t* B,
                          int64_t ldb, int64_t K, __mmask16 tail, bool accumulate) {
  if constexpr (R > 0) {
    if (r == R) mac_bf16_block<R, NV>(C, ldc, A, a_si, a_sk, B, ldb, K, tail, accumulate);
    else mac_bf16_rest<R - 1, NV>(r, C, ldc, A, a_si, a_sk, B, ldb, K, tail, accumulate);
  }
}

template <int NV>
inline void mac_bf16_rows(float* C, int64_t ldc, const uint32_t* A, int64_t a_si, int64_t a_sk, const uint32_t* B, int64_t ldb,
                          int64_t I, int64_t K, __mmask16 tail, bool accumulate) {
  constexpr int RI = rows_for(NV);
  int64_t i = 0;
  for (; i + RI <= I; i += RI) mac_bf16_block<RI, NV>(C + i * ldc, ldc, A + i * a_si, a_si, a_sk, B, ldb, K, tail, accumulate);
  if (i < I) mac_bf16_rest<RI - 1, NV>(I - i, C + i * ldc, ldc, A + i * a_si, a_si, a_sk, B, ldb, K, tail, accumulate);
}

inline void mac_bf16(float* C, int64_t ldc, const uint32_t* A, int64_t a_si, int64_t a_sk, const uint32_t* B, int64_t ldb, int64_t I,
                     int64_t K, int64_t W, bool accumulate) {
  for (int64_t w0 = 0; w0 < W; w0 += 16 * kMacMaxVectors) {
    int64_t w = W - w0 < 16 * kMacMaxVectors ? W - w0 : 16 * kMacMaxVectors;
    int nv = static_cast<int>((w + 15) / 16);
    __mmask16 tail = lanes(w - 16 * (nv - 1));
    float* c = C + w0;
    const uint32_t* b = B + w0;
    switch (nv) {
      case 1: mac_bf16_rows<1>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      case 2: mac_bf16_rows<2>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      case 3: mac_bf16_rows<3>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
      default: mac_bf16_rows<4>(c, ldc, A, a_si, a_sk, b, ldb, I, K, tail, accumulate); break;
    }
  }
}
#endif  // __AVX512BF16__

}  // namespace tr::vec
#endif
