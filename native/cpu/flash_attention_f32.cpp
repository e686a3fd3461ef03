// flash_attention_f32.cpp: the fused attention's fast path, float32 on AVX-512 targets (namespace
// fast), forward and backward side by side. The scheme of the plain loops (flash_attention_plain.cpp),
// with every tile held transposed: queries along the 16 lanes of a vector (St = K Q^T is (keys x
// queries)), kQ queries (four vectors) per tile, so the softmax's row max and row sum are plain vertical
// vector ops and the head dim D needs no padding; all six tile products are the one micro-kernel
// vec::mac (A read by scalar broadcasts with any strides, so K^T and V^T need no copies); exp is
// vec::exp512. Q^T (scaled) and dO^T are packed once per backward. Every operand is read and written
// with its own row stride (Rows), so strided views need no copies. Shapes: flash_attention_impl.h.
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/flash_attention_impl.h"

#ifdef TR_HAVE_AVX512
namespace tr::attn::fast {
using vec::exp512;
using vec::lanes;
using vec::mac;
using vec::transpose16;

namespace {
// St (rk x kQ) += mask(q0 + r, k0 + c) for the rq live queries.
void add_mask(float* St, const MaskView& mv, int64_t b, int64_t h, int64_t q0, int64_t rq, int64_t k0, int64_t rk) {
  const float* base = static_cast<const float*>(mv.base) + b * mv.sb + h * mv.sh + q0 * mv.sq;
  for (int64_t c = 0; c < rk; ++c) {
    const float* m = base + (k0 + c) * mv.sk;
    float* s = St + c * kQ;
    if (mv.sq == 0) {
      __m512 mc = _mm512_set1_ps(m[0]);
      for (int64_t r = 0; r < round16(rq); r += 16) _mm512_storeu_ps(s + r, _mm512_add_ps(_mm512_loadu_ps(s + r), mc));
    } else {
      for (int64_t r = 0; r < rq; ++r) s[r] += m[r * mv.sq];
    }
  }
}

// Qt (D x kQ) = scale * Q^T for the rq rows of Q (rq x D, row stride ldq); zero beyond rq, up to the vector boundary.
void pack_transposed(float* Qt, const float* Q, int64_t ldq, int64_t rq, int64_t D, float scale) {
  for (int64_t r0 = 0; r0 < rq; r0 += 16)
    for (int64_t d0 = 0; d0 < D; d0 += 16)
      transpose16(Qt + d0 * kQ + r0, kQ, Q + r0 * ldq + d0, ldq, std::min<int64_t>(16, rq - r0), std::min<int64_t>(16, D - d0), lanes(16), scale);
}

// rows x D values (row stride ld) set to zero.
void zero_rows(float* dst, int64_t ld, int64_t rows, int64_t D) {
  for (int64_t r = 0; r < rows; ++r) std::memset(dst + r * ld, 0, sizeof(float) * D);
}

// One query tile [q0, q0 + rq) of one batch-head: O rows and their log-sum-exp.
void forward_tile(const RowsF& O, float* LSE, const CRowsF& Q, const CRowsF& K, const CRowsF& V, const Dims& n, float scale,
                  const MaskView& mv, int64_t bh, int64_t q0, float* Qt, float* St, float* Ot) {
  int64_t rq = std::min(kQ, n.Sq - q0), W = round16(rq), nv = W / 16, D = n.D, b = bh / n.H, h = bh % n.H;
  const float* Kb = K.head(bh);
  const float* Vb = V.head(bh);
  pack_transposed(Qt, Q.row(bh, q0), Q.ld, rq, D, scale);
  for (int64_t d = 0; d < D; ++d) std::memset(Ot + d * kQ, 0, sizeof(float) * W);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m[kQ / 16], l[kQ / 16];
  for (int v = 0; v < kQ / 16; ++v) m[v] = ninf, l[v] = _mm512_setzero_ps();
  KeyTiles kt = key_tiles(n.Skv);
  for (int64_t k0 = 0; k0 < n.Skv; k0 += kt.size) {
    int64_t rk = std::min(kt.size, n.Skv - k0);
    // 1. St = K_j (rk x D) @ Qt (D x W): the scaled scores, keys by queries
    mac(St, kQ, Kb + k0 * K.ld, K.ld, 1, Qt, kQ, rk, D, W, false);
    if (mv.base) add_mask(St, mv, b, h, q0, rq, k0, rk);
    // 2. online softmax down each query's column: new max, P = exp(S - max), rescale the running sums
    for (int64_t v = 0; v < nv; ++v) {
      float* s = St + 16 * v;
      __m512 mx = m[v];
      for (int64_t c = 0; c < rk; ++c) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + c * kQ));
      __m512 mu = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ), mx, _mm512_setzero_ps());  // fully masked: 0
      __m512 corr = exp512(_mm512_sub_ps(m[v], mu)), sum = _mm512_setzero_ps();
      for (int64_t c = 0; c < rk; ++c) {
        __m512 p = exp512(_mm512_sub_ps(_mm512_loadu_ps(s + c * kQ), mu));
        _mm512_storeu_ps(s + c * kQ, p);
        sum = _mm512_add_ps(sum, p);
      }
      l[v] = _mm512_fmadd_ps(l[v], corr, sum);
      m[v] = mx;
      for (int64_t d = 0; d < D; ++d) _mm512_storeu_ps(Ot + d * kQ + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(Ot + d * kQ + 16 * v), corr));
    }
    // 3. Ot (D x W) += V_j^T (D x rk) @ P^T (rk x W)
    mac(Ot, kQ, Vb + k0 * V.ld, 1, V.ld, St, kQ, D, rk, W, true);
  }
  // 4. O = Ot^T / l, LSE = max + log(l); a fully masked row (l = 0) gives NaN, as the plain softmax does
  alignas(64) float mm[kQ], ll[kQ];
  const __m512 nan = _mm512_set1_ps(std::numeric_limits<float>::quiet_NaN());
  for (int64_t v = 0; v < nv; ++v) {
    _mm512_store_ps(ll + 16 * v, l[v]);
    _mm512_store_ps(mm + 16 * v, m[v]);
    __m512 inv = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(l[v], _mm512_setzero_ps(), _CMP_GT_OQ), nan, _mm512_div_ps(_mm512_set1_ps(1.0f), l[v]));
    for (int64_t d = 0; d < D; ++d) _mm512_storeu_ps(Ot + d * kQ + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(Ot + d * kQ + 16 * v), inv));
  }
  for (int64_t r = 0; r < rq; ++r) LSE[bh * n.Sq + q0 + r] = mm[r] + std::log(ll[r]);
  float* Ob = O.row(bh, q0);
  for (int64_t d0 = 0; d0 < D; d0 += 16)
    for (int64_t r0 = 0; r0 < rq; r0 += 16) {
      int64_t dd = std::min<int64_t>(16, D - d0);
      transpose16(Ob + r0 * O.ld + d0, O.ld, Ot + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), lanes(dd));
    }
}
}  // namespace

void flash_forward(const RowsF& O, float* LSE, const CRowsF& Q, const CRowsF& K, const CRowsF& V, const Dims& n, float scale,
                   const MaskView& mv) {
  int64_t qtiles = (n.Sq + kQ - 1) / kQ;
  parallel_for(n.B * n.H * qtiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> Qt(n.D * kQ), St(kKmax * kQ), Ot(n.D * kQ);
    for (int64_t job = begin; job < end; ++job)
      forward_tile(O, LSE, Q, K, V, n, scale, mv, job / qtiles, (job % qtiles) * kQ, Qt.data(), St.data(), Ot.data());
  });
}

void flash_backward(const RowsF& dQ, const RowsF& dK, const RowsF& dV, const CRowsF& dO, const CRowsF& Q, const CRowsF& K,
                    const CRowsF& V, const CRowsF& O, const float* LSE, const Dims& n, float scale, const MaskView& mv) {
  KeyTiles kt = key_tiles(n.Skv);
  int64_t D = n.D, qtiles = (n.Sq + kQ - 1) / kQ, tile = D * kQ;
  // Per chunk, for the batch-head it runs: Qt = scale Q^T and dOt = dO^T per query tile (D x kQ), the
  // log-sum-exp (+inf beyond the live rows, so their P is 0), Delta = rowsum(dO * O) (0 beyond), and
  // dQ^T summed per query tile (D x kQ), added to dQ's rows when the batch-head is done.
  int64_t per_chunk = qtiles * (3 * tile + 2 * kQ);
  std::vector<Tensor> packs;
  for (int t = 0; t < num_threads(); ++t) packs.push_back(empty({per_chunk}, DType::F32));
  over_key_tiles<float>(n, kt.count, dQ, [&](int64_t chunk, int64_t bh, int64_t kt0, int64_t kt1, float* dq, int64_t ldq) {
    float* Qt_all = packs[chunk].data<float>();
    float* dOt_all = Qt_all + qtiles * tile;
    float* dqt = dOt_all + qtiles * tile;
    float* lse_p = dqt + qtiles * tile;
    float* delta_p = lse_p + qtiles * kQ;
    std::memset(dqt, 0, sizeof(float) * qtiles * tile);
    for (int64_t qt = 0; qt < qtiles; ++qt) {
      int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), row = bh * n.Sq + q0;
      pack_transposed(Qt_all + qt * tile, Q.row(bh, q0), Q.ld, rq, D, scale);
      pack_transposed(dOt_all + qt * tile, dO.row(bh, q0), dO.ld, rq, D, 1.0f);
      for (int64_t r = 0; r < kQ; ++r) {
        __m512 dl = _mm512_setzero_ps();
        if (r < rq)
          for (int64_t d = 0; d < D; d += 16) {
            __mmask16 m = lanes(D - d);
            dl = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, dO.row(bh, q0 + r) + d), _mm512_maskz_loadu_ps(m, O.row(bh, q0 + r) + d), dl);
          }
        delta_p[qt * kQ + r] = _mm512_reduce_add_ps(dl);
        lse_p[qt * kQ + r] = r < rq ? LSE[row + r] : std::numeric_limits<float>::infinity();
      }
    }
    alignas(64) float St[kKmax * kQ], dPt[kKmax * kQ];
    int64_t b = bh / n.H, h = bh % n.H;
    for (int64_t j = kt0; j < kt1; ++j) {
      int64_t k0 = j * kt.size, rk = std::min(kt.size, n.Skv - k0);
      const float* Kj = K.row(bh, k0);
      const float* Vj = V.row(bh, k0);
      float* dKj = dK.row(bh, k0);
      float* dVj = dV.row(bh, k0);
      zero_rows(dKj, dK.ld, rk, D);
      zero_rows(dVj, dV.ld, rk, D);
      for (int64_t qt = 0; qt < qtiles; ++qt) {
        int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), W = round16(rq);
        const float* Qi = Q.row(bh, q0);
        const float* dOi = dO.row(bh, q0);
        // P^T = exp(K_j Qt - lse)
        mac(St, kQ, Kj, K.ld, 1, Qt_all + qt * tile, kQ, rk, D, W, false);
        if (mv.base) add_mask(St, mv, b, h, q0, rq, k0, rk);
        for (int64_t r = 0; r < W; r += 16) {
          __m512 lse = _mm512_loadu_ps(lse_p + qt * kQ + r);
          for (int64_t c = 0; c < rk; ++c) _mm512_store_ps(St + c * kQ + r, exp512(_mm512_sub_ps(_mm512_load_ps(St + c * kQ + r), lse)));
        }
        // dV_j (rk x D) += P^T (rk x rq) @ dO_i (rq x D)
        mac(dVj, dV.ld, St, kQ, 1, dOi, dO.ld, rk, rq, D, true);
        // dP^T = V_j dO_i^T; dS^T = P^T (dP^T - Delta) scale
        mac(dPt, kQ, Vj, V.ld, 1, dOt_all + qt * tile, kQ, rk, D, W, false);
        __m512 sc = _mm512_set1_ps(scale);
        for (int64_t r = 0; r < W; r += 16) {
          __m512 delta = _mm512_loadu_ps(delta_p + qt * kQ + r);
          for (int64_t c = 0; c < rk; ++c) {
            float* dp = dPt + c * kQ + r;
            __m512 p = _mm512_load_ps(St + c * kQ + r);
            _mm512_store_ps(dp, _mm512_mul_ps(_mm512_mul_ps(p, _mm512_sub_ps(_mm512_load_ps(dp), delta)), sc));
          }
        }
        // dK_j (rk x D) += dS^T (rk x rq) @ Q_i (rq x D); dQ_i^T (D x W) += K_j^T (D x rk) @ dS^T (rk x W)
        mac(dKj, dK.ld, dPt, kQ, 1, Qi, Q.ld, rk, rq, D, true);
        mac(dqt + qt * tile, kQ, Kj, 1, K.ld, dPt, kQ, D, rk, W, true);
      }
    }
    add_transposed_dq(dq, ldq, dqt, tile, n.Sq, D);
  });
}

}  // namespace tr::attn::fast
#endif
