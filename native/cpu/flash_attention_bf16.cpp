// flash_attention_bf16.cpp: the fused attention's bf16 path on AVX512-BF16 targets (namespace fast16),
// forward and backward side by side. The fast path's scheme and transposed tiles (flash_attention_f32.cpp),
// every product in vec::mac_bf16 (vdpbf16ps: bf16 pairs along the reduction dimension, float32 sums) on
// q, k, v, dO as stored (no float32 copies; the record saves them, the bf16 output and the float32
// log-sum-exp). Operands are packed into pairs, 32-bit words ("words" below), once per tile or per
// batch-head (odd lengths padded with a zero), read from rows with any stride (Rows: strided views in place):
//   forward:  St = K_j Q_i^T      (pairs along D: K_j per batch-head, Q_i^T per query tile)
//             Ot += V_j^T P^T     (pairs of keys: V^T per batch-head, P^T as the softmax writes it)
//   backward: St = K_j Q_i^T, dPt = V_j dO_i^T   (pairs along D: K_j, V_j per key tile, Q^T, dO^T per batch-head)
//             dV_j += P^T dO_i, dK_j += dS^T Q_i (pairs of queries: Q, dO per batch-head)
//             dQ_i^T += K_j^T dS^T               (pairs of keys: K_j^T per key tile)
// The scale multiplies the float32 scores (scaling bf16 q would round it again); P and dS are rounded to
// bf16 for the products that read them (as FlashAttention does in half precision); the softmax (in
// base 2), the rescaling and every accumulator stay float32, and O, dK, dV (dQ after its fixed-order
// sum) are rounded to bf16 once. Shapes: flash_attention_impl.h.
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/flash_attention_impl.h"

#ifdef TR_HAVE_BF16_DOT
namespace tr::attn::fast16 {
using fast::kKmax;
using fast::kQ;
using fast::KeyTiles;
using fast::round16;
using vec::lanes;
using vec::mac_bf16;
using vec::transpose16;
using vec::transpose16_words;

namespace {
inline int64_t pairs(int64_t n) { return (n + 1) / 2; }
constexpr float kLog2e = 1.44269504088896341f, kLn2 = 0.693147180559945309f;

// 2^x for 16 lanes, the softmax's exp in base 2 (the scores carry the factor log2(e)): 2^n by scalef
// times a degree-5 polynomial for 2^f, f = x - n in [-1/2, 1/2] (relative error below 2e-7, fitted on
// that interval); x = -inf (and below -160) gives 0, NaN stays NaN. Cheaper than vec::exp512 (no
// Cody-Waite reduction): x <= 0 here, the scores minus their running max.
inline __m512 exp2_512(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-160.0f), x);  // operand order keeps NaN
  __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(1.327647129e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.675541893e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550713092e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402212024e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931469440e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}
inline __mmask32 lanes32(int64_t n) { return n >= 32 ? ~__mmask32(0) : (__mmask32(1) << n) - 1; }  // n in [0, 32]

// Key tiles of an even size, so that each starts on a pair of keys; at most kKmax keys.
inline KeyTiles key_tiles(int64_t Skv) {
  int64_t count = (Skv + kKmax - 1) / kKmax, size = (Skv + count - 1) / count;
  size += size & 1;
  return {(Skv + size - 1) / size, size};
}

// Rows of src (rows x cols, row stride lds) as words along the row: dst[r * ldd + w] = (src(r, 2w), src(r, 2w + 1)).
void words_of_rows(uint32_t* dst, int64_t ldd, const uint16_t* src, int64_t lds, int64_t rows, int64_t cols) {
  int64_t words = pairs(cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t w0 = 0; w0 < words; w0 += 16)
      _mm512_mask_storeu_epi32(dst + r * ldd + w0, lanes(words - w0), _mm512_maskz_loadu_epi16(lanes32(cols - 2 * w0), src + r * lds + 2 * w0));
}

// The same transposed: dst[w * ldd + r] = (src(r, 2w), src(r, 2w + 1)) for r < round16(rows), zero beyond rows.
void words_of_rows_t(uint32_t* dst, int64_t ldd, const uint16_t* src, int64_t lds, int64_t rows, int64_t cols) {
  int64_t words = pairs(cols);
  for (int64_t r0 = 0; r0 < rows; r0 += 16)
    for (int64_t w0 = 0; w0 < words; w0 += 16) {
      __m512i t[16];
      __mmask32 m = lanes32(cols - 2 * w0);
      for (int64_t i = 0; i < 16; ++i) t[i] = r0 + i < rows ? _mm512_maskz_loadu_epi16(m, src + (r0 + i) * lds + 2 * w0) : _mm512_setzero_si512();
      transpose16_words(t);
      for (int64_t w = 0; w < std::min<int64_t>(16, words - w0); ++w) _mm512_storeu_si512(dst + (w0 + w) * ldd + r0, t[w]);
    }
}

// 16 words (src(2p, c), src(2p + 1, c)) for c in [c0, c0 + 16) (columns from cols on read as 0, rows from `rows` on as 0).
inline __m512i row_pair(const uint16_t* src, int64_t lds, int64_t rows, int64_t p, int64_t c0, int64_t cols) {
  __mmask16 m = lanes(cols - c0);
  __m512i a = 2 * p < rows ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + 2 * p * lds + c0)) : _mm512_setzero_si512();
  __m512i b = 2 * p + 1 < rows ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + (2 * p + 1) * lds + c0)) : _mm512_setzero_si512();
  return _mm512_or_si512(a, _mm512_slli_epi32(b, 16));
}

// Pairs of rows as words: dst[p * ldd + c] = (src(2p, c), src(2p + 1, c)) for p < prows (rows from `rows` on read as 0).
void words_of_row_pairs(uint32_t* dst, int64_t ldd, const uint16_t* src, int64_t lds, int64_t rows, int64_t cols, int64_t prows) {
  for (int64_t p = 0; p < prows; ++p)
    for (int64_t c0 = 0; c0 < cols; c0 += 16) _mm512_mask_storeu_epi32(dst + p * ldd + c0, lanes(cols - c0), row_pair(src, lds, rows, p, c0, cols));
}

// The same transposed: dst[c * ldd + p] = (src(2p, c), src(2p + 1, c)) for p < pairs(rows).
void words_of_row_pairs_t(uint32_t* dst, int64_t ldd, const uint16_t* src, int64_t lds, int64_t rows, int64_t cols) {
  int64_t np = pairs(rows);
  for (int64_t p0 = 0; p0 < np; p0 += 16)
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
      __m512i t[16];
      for (int64_t i = 0; i < 16; ++i) t[i] = p0 + i < np ? row_pair(src, lds, rows, p0 + i, c0, cols) : _mm512_setzero_si512();
      transpose16_words(t);
      for (int64_t c = 0; c < std::min<int64_t>(16, cols - c0); ++c) _mm512_mask_storeu_epi32(dst + (c0 + c) * ldd + p0, lanes(np - p0), t[c]);
    }
}

// Two vectors rounded to bf16 as 16 words (lo[i], hi[i]): a pair of keys for 16 queries.
inline __m512i pair_words(__m512 lo, __m512 hi) {
  alignas(64) static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  return _mm512_permutexvar_epi16(_mm512_load_si512(order), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}
inline void store_bf16(uint32_t* dst, __m512 v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), (__m256i)_mm512_cvtneps_pbh(v)); }

// St (rk x kQ) = scale St + mask(q0 + r, k0 + c) for the rq live queries (scale alone beyond them); M the mask's type.
template <typename M>
void scale_add_mask(float* St, float scale, const MaskView& mv, int64_t b, int64_t h, int64_t q0, int64_t rq, int64_t k0, int64_t rk) {
  const M* base = static_cast<const M*>(mv.base) + b * mv.sb + h * mv.sh + q0 * mv.sq;
  const __m512 sc = _mm512_set1_ps(scale);
  for (int64_t c = 0; c < rk; ++c) {
    const M* m = base + (k0 + c) * mv.sk;
    float* s = St + c * kQ;
    __m512 mc = _mm512_set1_ps(mv.sq == 0 ? vec::to_f32(m[0]) : 0.0f);
    for (int64_t r = 0; r < round16(rq); r += 16) _mm512_storeu_ps(s + r, _mm512_fmadd_ps(_mm512_loadu_ps(s + r), sc, mc));
    if (mv.sq != 0)
      for (int64_t r = 0; r < rq; ++r) s[r] += vec::to_f32(m[r * mv.sq]);
  }
}
// The scale the scores still need: 1 when the mask pass applied it.
float scale_and_mask(float* St, float scale, const MaskView& mv, int64_t bh, int64_t H, int64_t q0, int64_t rq, int64_t k0, int64_t rk) {
  if (!mv.base) return scale;
  if (mv.bf16) scale_add_mask<uint16_t>(St, scale, mv, bh / H, bh % H, q0, rq, k0, rk);
  else scale_add_mask<float>(St, scale, mv, bh / H, bh % H, q0, rq, k0, rk);
  return 1.0f;
}

// One query tile [q0, q0 + rq) of one batch-head: O rows (bf16) and their log-sum-exp. Kw: the batch-head's
// keys as words along D (Skv x pairs(D)); Vtw: its V^T as words along the keys (D x ldv).
void forward_tile(const Rows16& O, float* LSE, const CRows16& Q, const uint32_t* Kw, const uint32_t* Vtw, int64_t ldv, const Dims& n,
                  float scale, const MaskView& mv, int64_t bh, int64_t q0, uint32_t* Qw, float* St, uint32_t* Pw, float* Ot, float* Or) {
  int64_t rq = std::min(kQ, n.Sq - q0), W = round16(rq), nv = W / 16, D = n.D, Dw = pairs(D);
  words_of_rows_t(Qw, kQ, Q.row(bh, q0), Q.ld, rq, D);
  for (int64_t d = 0; d < D; ++d) std::memset(Ot + d * kQ, 0, sizeof(float) * W);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m[kQ / 16], l[kQ / 16];
  for (int v = 0; v < kQ / 16; ++v) m[v] = ninf, l[v] = _mm512_setzero_ps();
  KeyTiles kt = key_tiles(n.Skv);
  for (int64_t k0 = 0; k0 < n.Skv; k0 += kt.size) {
    int64_t rk = std::min(kt.size, n.Skv - k0);
    // 1. St = K_j (rk x D) @ Q^T (D x W): the scores, keys by queries, in pairs along D
    mac_bf16(St, kQ, Kw + k0 * Dw, Dw, 1, Qw, kQ, rk, Dw, W, false);
    const __m512 sc = _mm512_set1_ps(scale_and_mask(St, scale, mv, bh, n.H, q0, rq, k0, rk) * kLog2e);
    // 2. online softmax down each query's column, in base 2 (m: the running max of the scores times log2(e));
    //    P^T rounded to bf16 in pairs of keys (Pw: pairs(rk) x kQ words); Ot rescaled where the max moved
    for (int64_t v = 0; v < nv; ++v) {
      float* s = St + 16 * v;
      __m512 mx = m[v];
      for (int64_t c = 0; c < rk; ++c) mx = _mm512_max_ps(mx, _mm512_mul_ps(_mm512_loadu_ps(s + c * kQ), sc));
      __m512 mu = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ), mx, _mm512_setzero_ps());  // fully masked: 0
      __m512 corr = exp2_512(_mm512_sub_ps(m[v], mu)), sum = _mm512_setzero_ps();
      for (int64_t c = 0; c < rk; c += 2) {
        __m512 p0 = exp2_512(_mm512_fmsub_ps(_mm512_loadu_ps(s + c * kQ), sc, mu));
        __m512 p1 = c + 1 < rk ? exp2_512(_mm512_fmsub_ps(_mm512_loadu_ps(s + (c + 1) * kQ), sc, mu)) : _mm512_setzero_ps();
        sum = _mm512_add_ps(sum, _mm512_add_ps(p0, p1));
        _mm512_storeu_si512(Pw + (c / 2) * kQ + 16 * v, pair_words(p0, p1));
      }
      l[v] = _mm512_fmadd_ps(l[v], corr, sum);
      m[v] = mx;
      if (k0 > 0 && _mm512_cmp_ps_mask(corr, _mm512_set1_ps(1.0f), _CMP_NEQ_UQ))
        for (int64_t d = 0; d < D; ++d) _mm512_storeu_ps(Ot + d * kQ + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(Ot + d * kQ + 16 * v), corr));
    }
    // 3. Ot (D x W) += V_j^T (D x rk) @ P^T (rk x W), in pairs of keys
    mac_bf16(Ot, kQ, Vtw + k0 / 2, ldv, 1, Pw, kQ, D, pairs(rk), W, true);
  }
  // 4. O = Ot^T / l rounded to bf16, LSE = max ln(2) + log(l); a fully masked row (l = 0) gives NaN, as the plain softmax does
  alignas(64) float mm[kQ], ll[kQ];
  for (int64_t v = 0; v < nv; ++v) _mm512_store_ps(ll + 16 * v, l[v]), _mm512_store_ps(mm + 16 * v, m[v]);
  for (int64_t r = 0; r < rq; ++r) LSE[bh * n.Sq + q0 + r] = mm[r] * kLn2 + std::log(ll[r]);
  for (int64_t d0 = 0; d0 < D; d0 += 16)
    for (int64_t r0 = 0; r0 < rq; r0 += 16) {
      int64_t dd = std::min<int64_t>(16, D - d0);
      transpose16(Or + r0 * D + d0, D, Ot + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), lanes(dd));
    }
  uint16_t* Ob = O.row(bh, q0);
  for (int64_t r = 0; r < rq; ++r) {
    __m512 inv = _mm512_set1_ps(ll[r] > 0 ? 1.0f / ll[r] : std::numeric_limits<float>::quiet_NaN());
    for (int64_t d = 0; d < D; d += 16)
      vec::store16(Ob + r * O.ld + d, _mm512_mul_ps(vec::load16(Or + r * D + d, lanes(D - d)), inv), lanes(D - d));
  }
}
}  // namespace

void flash_forward(const Rows16& O, float* LSE, const CRows16& Q, const CRows16& K, const CRows16& V, const Dims& n, float scale,
                   const MaskView& mv) {
  int64_t qtiles = (n.Sq + kQ - 1) / kQ, D = n.D, Dw = pairs(D), ldv = pairs(n.Skv);
  parallel_for(n.B * n.H * qtiles, 1, [&](int64_t begin, int64_t end) {
    // per thread: the keys and values of the batch-head it is on, packed once for all its query tiles
    std::vector<uint32_t> Kw(n.Skv * Dw), Vtw(D * ldv), Qw(Dw * kQ), Pw(kKmax / 2 * kQ);
    std::vector<float> St(kKmax * kQ), Ot(D * kQ), Or(kQ * D);
    int64_t packed = -1;
    for (int64_t job = begin; job < end; ++job) {
      int64_t bh = job / qtiles;
      if (bh != packed) {
        words_of_rows(Kw.data(), Dw, K.head(bh), K.ld, n.Skv, D);
        words_of_row_pairs_t(Vtw.data(), ldv, V.head(bh), V.ld, n.Skv, D);
        packed = bh;
      }
      forward_tile(O, LSE, Q, Kw.data(), Vtw.data(), ldv, n, scale, mv, bh, (job % qtiles) * kQ, Qw.data(), St.data(), Pw.data(),
                   Ot.data(), Or.data());
    }
  });
}

// dQ float32 (summed in over_key_tiles' fixed order, rounded by the caller); dK, dV bf16.
void flash_backward(const Rows<float>& dQ, const Rows16& dK, const Rows16& dV, const CRows16& dO, const CRows16& Q, const CRows16& K,
                    const CRows16& V, const CRows16& O, const float* LSE, const Dims& n, float scale, const MaskView& mv) {
  KeyTiles kt = key_tiles(n.Skv);
  int64_t D = n.D, Dw = pairs(D), qtiles = (n.Sq + kQ - 1) / kQ;
  // Per chunk, for the batch-head it runs, per query tile: Q^T and dO^T as words along D (Dw x kQ: the
  // right operand of the scores and of dP), Q and dO in pairs of queries (kQ / 2 x D: the right operand
  // of dK and dV), dQ^T summed (D x kQ, float32), the log-sum-exp times log2(e) (+inf beyond the live
  // rows, so their P is 0) and Delta = rowsum(dO * O) (0 beyond). In 32-bit units.
  int64_t tile_t = Dw * kQ, tile_p = kQ / 2 * D, tile_f = D * kQ;
  int64_t per_chunk = qtiles * (2 * tile_t + 2 * tile_p + tile_f + 2 * kQ);
  std::vector<Tensor> packs;
  for (int t = 0; t < num_threads(); ++t) packs.push_back(empty({per_chunk}, DType::F32));
  over_key_tiles<float>(n, kt.count, dQ, [&](int64_t chunk, int64_t bh, int64_t kt0, int64_t kt1, float* dq, int64_t ldq) {
    float* dqt = packs[chunk].data<float>();
    float* lse_p = dqt + qtiles * tile_f;
    float* delta_p = lse_p + qtiles * kQ;
    uint32_t* Qt_all = reinterpret_cast<uint32_t*>(delta_p + qtiles * kQ);
    uint32_t* dOt_all = Qt_all + qtiles * tile_t;
    uint32_t* Qp_all = dOt_all + qtiles * tile_t;
    uint32_t* dOp_all = Qp_all + qtiles * tile_p;
    std::memset(dqt, 0, sizeof(float) * qtiles * tile_f);
    for (int64_t qt = 0; qt < qtiles; ++qt) {
      int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), row = bh * n.Sq + q0;
      const uint16_t* Qi = Q.row(bh, q0);
      const uint16_t* dOi = dO.row(bh, q0);
      words_of_rows_t(Qt_all + qt * tile_t, kQ, Qi, Q.ld, rq, D);
      words_of_rows_t(dOt_all + qt * tile_t, kQ, dOi, dO.ld, rq, D);
      words_of_row_pairs(Qp_all + qt * tile_p, D, Qi, Q.ld, rq, D, kQ / 2);
      words_of_row_pairs(dOp_all + qt * tile_p, D, dOi, dO.ld, rq, D, kQ / 2);
      for (int64_t r = 0; r < kQ; ++r) {
        __m512 dl = _mm512_setzero_ps();
        if (r < rq)
          for (int64_t d = 0; d < D; d += 16) {
            __mmask16 m = lanes(D - d);
            dl = _mm512_fmadd_ps(vec::load16(dOi + r * dO.ld + d, m), vec::load16(O.row(bh, q0 + r) + d, m), dl);
          }
        delta_p[qt * kQ + r] = _mm512_reduce_add_ps(dl);
        lse_p[qt * kQ + r] = r < rq ? LSE[row + r] * kLog2e : std::numeric_limits<float>::infinity();
      }
    }
    // Per key tile: K_j and V_j as words along D (the left operand of the scores and of dP), K_j^T in pairs
    // of keys (the left operand of dQ), dK_j and dV_j summed in float32; per (key, query) tile: P^T and dP^T
    // (float32), P^T and dS^T rounded in rows (pairs of queries: the left operand of dV and dK) and dS^T in
    // pairs of keys (the right operand of dQ).
    static thread_local std::vector<float> scratch;
    int64_t kw = kKmax * Dw, sz = 2 * kKmax * kQ + 2 * kKmax * kQ / 2 + kKmax / 2 * kQ + 2 * kw + D * kKmax / 2 + 2 * kKmax * D;
    if (static_cast<int64_t>(scratch.size()) < sz) scratch.resize(sz);
    float* St = scratch.data();
    float* dPt = St + kKmax * kQ;
    float* dKf = dPt + kKmax * kQ;
    float* dVf = dKf + kKmax * D;
    uint32_t* Pr = reinterpret_cast<uint32_t*>(dVf + kKmax * D);
    uint32_t* dSr = Pr + kKmax * kQ / 2;
    uint32_t* dSw = dSr + kKmax * kQ / 2;
    uint32_t* Kw = dSw + kKmax / 2 * kQ;
    uint32_t* Vw = Kw + kw;
    uint32_t* Ktw = Vw + kw;
    const __m512 scv = _mm512_set1_ps(scale);
    for (int64_t j = kt0; j < kt1; ++j) {
      int64_t k0 = j * kt.size, rk = std::min(kt.size, n.Skv - k0);
      words_of_rows(Kw, Dw, K.row(bh, k0), K.ld, rk, D);
      words_of_rows(Vw, Dw, V.row(bh, k0), V.ld, rk, D);
      words_of_row_pairs_t(Ktw, kKmax / 2, K.row(bh, k0), K.ld, rk, D);
      std::memset(dKf, 0, sizeof(float) * rk * D);
      std::memset(dVf, 0, sizeof(float) * rk * D);
      for (int64_t qt = 0; qt < qtiles; ++qt) {
        int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), W = round16(rq);
        // P^T = exp(scale K_j Q_i^T + mask - lse) (in base 2), also rounded in rows
        mac_bf16(St, kQ, Kw, Dw, 1, Qt_all + qt * tile_t, kQ, rk, Dw, W, false);
        const __m512 sc = _mm512_set1_ps(scale_and_mask(St, scale, mv, bh, n.H, q0, rq, k0, rk) * kLog2e);
        for (int64_t r = 0; r < W; r += 16) {
          __m512 lse = _mm512_loadu_ps(lse_p + qt * kQ + r);
          for (int64_t c = 0; c < rk; ++c) {
            __m512 p = exp2_512(_mm512_fmsub_ps(_mm512_loadu_ps(St + c * kQ + r), sc, lse));
            _mm512_storeu_ps(St + c * kQ + r, p);
            store_bf16(Pr + c * kQ / 2 + r / 2, p);
          }
        }
        // dV_j (rk x D) += P^T (rk x W) @ dO_i (W x D), in pairs of queries
        mac_bf16(dVf, D, Pr, kQ / 2, 1, dOp_all + qt * tile_p, D, rk, W / 2, D, true);
        // dP^T = V_j dO_i^T; dS^T = P^T (dP^T - Delta) scale, rounded in rows and in pairs of keys
        mac_bf16(dPt, kQ, Vw, Dw, 1, dOt_all + qt * tile_t, kQ, rk, Dw, W, false);
        for (int64_t r = 0; r < W; r += 16) {
          __m512 delta = _mm512_loadu_ps(delta_p + qt * kQ + r);
          for (int64_t c = 0; c < rk; c += 2) {
            __m512 ds0 = _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(St + c * kQ + r), _mm512_sub_ps(_mm512_loadu_ps(dPt + c * kQ + r), delta)), scv);
            __m512 ds1 = _mm512_setzero_ps();
            store_bf16(dSr + c * kQ / 2 + r / 2, ds0);
            if (c + 1 < rk) {
              ds1 = _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(St + (c + 1) * kQ + r), _mm512_sub_ps(_mm512_loadu_ps(dPt + (c + 1) * kQ + r), delta)), scv);
              store_bf16(dSr + (c + 1) * kQ / 2 + r / 2, ds1);
            }
            _mm512_storeu_si512(dSw + (c / 2) * kQ + r, pair_words(ds0, ds1));
          }
        }
        // dK_j (rk x D) += dS^T (rk x W) @ Q_i (W x D), in pairs of queries; dQ_i^T (D x W) += K_j^T (D x rk) @ dS^T (rk x W), in pairs of keys
        mac_bf16(dKf, D, dSr, kQ / 2, 1, Qp_all + qt * tile_p, D, rk, W / 2, D, true);
        mac_bf16(dqt + qt * tile_f, kQ, Ktw, kKmax / 2, 1, dSw, kQ, D, pairs(rk), W, true);
      }
      for (int64_t r = 0; r < rk; ++r)
        for (int64_t d = 0; d < D; d += 16) {
          vec::store16(dK.row(bh, k0 + r) + d, vec::load16(dKf + r * D + d, lanes(D - d)), lanes(D - d));
          vec::store16(dV.row(bh, k0 + r) + d, vec::load16(dVf + r * D + d, lanes(D - d)), lanes(D - d));
        }
    }
    fast::add_transposed_dq(dq, ldq, dqt, tile_f, n.Sq, D);
  });
}

}  // namespace tr::attn::fast16
#endif
