// flash_attention.cpp: fused scaled dot-product attention (FlashAttention-2 scheme) on the CPU.
// Forward: tiles of queries against tiles of keys with an online softmax; saves only the output
// and the per-row log-sum-exp. Backward: Delta = rowsum(dO * O), then per (batch, head) the
// probabilities are recomputed tile by tile: dV += P^T dO, dP = dO V^T, dS = P (dP - Delta),
// dK += dS^T Q scale, dQ += dS K scale. The Sq x Skv matrix is never materialised: memory grows
// linearly with sequence length. q (B, H, Sq, D), k and v (B, H, Skv, D), mask additive and
// broadcastable to (B, H, Sq, Skv) or undefined. Work is split over (batch, head, query tile)
// forward and over (batch, head, key tile) backward: dK and dV rows belong to one job, dQ is summed
// in per-thread buffers, then added in a fixed order (the result does not depend on timing).
//
// Three implementations of the one scheme:
//  - the fast path (float32 on AVX-512 targets): every tile is held transposed, queries along the
//    16 lanes of a vector (St = K Q^T is (keys x queries)), so the softmax's row max and row sum are
//    plain vertical vector ops and the head dim D needs no padding; all six tile products are the
//    one micro-kernel vec::mac (A read by scalar broadcasts with any strides, so K^T and V^T need no
//    copies); exp is vec::exp512. Q^T (scaled) and dO^T are packed once per backward.
//  - the bf16 path (bf16 on AVX512-BF16 targets, namespace fast16): the same transposed tiles, every
//    product in vec::mac_bf16 (vdpbf16ps: bf16 pairs along the reduction dimension, float32 sums) on
//    q, k, v, dO as stored (no float32 copies; the record saves them, the bf16 output and the float32
//    log-sum-exp). Operands are packed into pairs once per tile (odd lengths padded with a zero):
//      forward:  St = K_j Q_i^T      (pairs along D: K_j per batch-head, Q_i^T per query tile)
//                Ot += V_j^T P^T     (pairs of keys: V^T per batch-head, P^T as the softmax writes it)
//      backward: St = K_j Q_i^T, dPt = V_j dO_i^T   (pairs along D: K_j, V_j per key tile, Q^T, dO^T per batch-head)
//                dV_j += P^T dO_i, dK_j += dS^T Q_i (pairs of queries: Q, dO per batch-head)
//                dQ_i^T += K_j^T dS^T               (pairs of keys: K_j^T per key tile)
//    P and dS are rounded to bf16 for the products that read them (as FlashAttention does in half
//    precision); the scale, the softmax (in base 2) and every accumulator stay float32, and O, dK,
//    dV and dQ (after its fixed-order sum) are rounded to bf16 once. TREEREWARD_ATTENTION_BF16=f32
//    runs bf16 through the float32 fast path on widened copies instead (for A/B timing).
//  - the plain loops below it: the reference the fast paths are tested against, and the float64 path;
//    TREEREWARD_ATTENTION=plain forces them (bf16 then goes through the float32 op).
// On cuda the forward and backward compute in native/cuda/attention.cu (the same scheme on the GPU); the
// checks and the autograd record below are shared.
#include <cstdlib>
#include <cstring>
#include <string>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/kernel_util.h"
#include "cpu/vec_avx512.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_kernels_b.h"  // the compute of the fused attention on cuda
#endif

namespace tr {

namespace {
constexpr int64_t kTileQ = 64;   // query rows per tile
constexpr int64_t kTileK = 128;  // key rows per tile

struct Dims {
  int64_t B, H, Sq, Skv, D;
};

// Strides of a mask broadcast to (B, H, Sq, Skv); all zero when there is no mask.
struct MaskView {
  const void* base = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  bool bf16 = false;  // bf16 elements (only on the bf16 path), else the compute type
};

template <typename T>
inline T mask_at(const MaskView& m, int64_t b, int64_t h, int64_t q, int64_t k) {
  return static_cast<const T*>(m.base)[b * m.sb + h * m.sh + q * m.sq + k * m.sk];
}

// S (rq x rk) = scale * Q (rq x D) K^T (D x rk) + mask, with Kt the key tile transposed (D x rk).
template <typename T>
void scores_tile(T* S, const T* Q, const T* Kt, int64_t rq, int64_t rk, int64_t D, T scale, const MaskView& mv, int64_t b,
                 int64_t h, int64_t q0, int64_t k0) {
  for (int64_t r = 0; r < rq; ++r) {
    T* s = S + r * kTileK;
    for (int64_t c = 0; c < rk; ++c) s[c] = 0;
    const T* qr = Q + r * D;
    for (int64_t d = 0; d < D; ++d) {
      T qd = qr[d];
      const T* kt = Kt + d * kTileK;
      for (int64_t c = 0; c < rk; ++c) s[c] += qd * kt[c];
    }
    for (int64_t c = 0; c < rk; ++c) s[c] *= scale;
    if (mv.base)
      for (int64_t c = 0; c < rk; ++c) s[c] += mask_at<T>(mv, b, h, q0 + r, k0 + c);
  }
}

template <typename T>
void transpose_tile(T* Kt, const T* K, int64_t rk, int64_t D) {  // K (rk x D) -> Kt (D x kTileK)
  for (int64_t c = 0; c < rk; ++c)
    for (int64_t d = 0; d < D; ++d) Kt[d * kTileK + c] = K[c * D + d];
}

template <typename T>
void flash_forward(T* O, T* LSE, const T* Q, const T* K, const T* V, const Dims& n, T scale, const MaskView& mv) {
  int64_t qtiles = (n.Sq + kTileQ - 1) / kTileQ;
  parallel_for(n.B * n.H * qtiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> S(kTileQ * kTileK), Kt(n.D * kTileK), acc(kTileQ * n.D), m(kTileQ), l(kTileQ);
    for (int64_t job = begin; job < end; ++job) {
      int64_t bh = job / qtiles, qt = job % qtiles, b = bh / n.H, h = bh % n.H;
      int64_t q0 = qt * kTileQ, rq = std::min(kTileQ, n.Sq - q0);
      const T* Qt = Q + (bh * n.Sq + q0) * n.D;
      const T* Kb = K + bh * n.Skv * n.D;
      const T* Vb = V + bh * n.Skv * n.D;
      std::fill(acc.begin(), acc.begin() + rq * n.D, T(0));
      std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
      std::fill(l.begin(), l.end(), T(0));
      for (int64_t k0 = 0; k0 < n.Skv; k0 += kTileK) {
        int64_t rk = std::min(kTileK, n.Skv - k0);
        transpose_tile(Kt.data(), Kb + k0 * n.D, rk, n.D);
        scores_tile(S.data(), Qt, Kt.data(), rq, rk, n.D, scale, mv, b, h, q0, k0);
        for (int64_t r = 0; r < rq; ++r) {
          T* s = S.data() + r * kTileK;
          T mx = m[r];
          for (int64_t c = 0; c < rk; ++c) mx = std::max(mx, s[c]);
          if (mx == -std::numeric_limits<T>::infinity()) continue;  // a fully masked tile so far
          T corr = std::exp(m[r] - mx), sum = 0;
          for (int64_t c = 0; c < rk; ++c) {
            s[c] = std::exp(s[c] - mx);
            sum += s[c];
          }
          l[r] = l[r] * corr + sum;
          m[r] = mx;
          T* a = acc.data() + r * n.D;
          for (int64_t d = 0; d < n.D; ++d) a[d] *= corr;
          for (int64_t c = 0; c < rk; ++c) {
            T p = s[c];
            const T* vr = Vb + (k0 + c) * n.D;
            for (int64_t d = 0; d < n.D; ++d) a[d] += p * vr[d];
          }
        }
      }
      for (int64_t r = 0; r < rq; ++r) {
        T inv = l[r] > 0 ? T(1) / l[r] : std::numeric_limits<T>::quiet_NaN();
        T* o = O + (bh * n.Sq + q0 + r) * n.D;
        const T* a = acc.data() + r * n.D;
        for (int64_t d = 0; d < n.D; ++d) o[d] = a[d] * inv;
        LSE[bh * n.Sq + q0 + r] = m[r] + std::log(l[r]);
      }
    }
  });
}

// The backward's work split: the (batch-head, key tile) pairs, bh-major, in one contiguous run per
// thread ("chunk"). body(chunk, bh, kt0, kt1, dq) runs key tiles [kt0, kt1) of batch-head bh and adds
// their dQ contributions to dq (Sq x D, row-major): the batch-head's rows of dQ itself when the chunk
// runs all of its key tiles (no other chunk touches them), else a zeroed buffer that is added to dQ
// after all chunks, in chunk order. So the result depends on the thread count but not on timing.
template <typename T>
void over_key_tiles(const Dims& n, int64_t ktiles, T* dQ, const std::function<void(int64_t, int64_t, int64_t, int64_t, T*)>& body) {
  int64_t BH = n.B * n.H, jobs = BH * ktiles, per_bh = n.Sq * n.D;
  if (jobs == 0) {
    std::memset(dQ, 0, sizeof(T) * BH * per_bh);
    return;
  }
  int64_t per = (jobs + num_threads() - 1) / num_threads(), chunks = (jobs + per - 1) / per;
  auto tiles_of = [&](int64_t c, int64_t bh, int64_t& kt0, int64_t& kt1) {
    kt0 = std::max(c * per, bh * ktiles) - bh * ktiles;
    kt1 = std::min(std::min(jobs, (c + 1) * per), (bh + 1) * ktiles) - bh * ktiles;
    return kt0 > 0 || kt1 < ktiles;  // shared with another chunk
  };
  // the parts of shared batch-heads: at most the first and the last of each chunk (tensors: the memory tests see them)
  std::vector<Tensor> parts(2 * chunks);
  std::vector<int64_t> part_bh(2 * chunks);
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t ends[2] = {c * per / ktiles, (std::min(jobs, (c + 1) * per) - 1) / ktiles}, kt0, kt1;
    for (int e = 0; e < 2; ++e)
      if ((e == 0 || ends[1] != ends[0]) && tiles_of(c, ends[e], kt0, kt1)) {
        parts[2 * c + e] = zeros({per_bh}, std::is_same_v<T, double> ? DType::F64 : DType::F32);
        part_bh[2 * c + e] = ends[e];
      }
  }
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t bh = c * per / ktiles; bh <= (std::min(jobs, (c + 1) * per) - 1) / ktiles; ++bh) {
        int64_t kt0, kt1;
        T* dq = dQ + bh * per_bh;
        std::memset(dq, 0, sizeof(T) * per_bh);  // here rather than all at once: in parallel, and hot for body
        if (tiles_of(c, bh, kt0, kt1)) dq = (parts[2 * c].defined() && part_bh[2 * c] == bh ? parts[2 * c] : parts[2 * c + 1]).data<T>();
        body(c, bh, kt0, kt1, dq);
      }
  });
  for (int64_t i = 0; i < 2 * chunks; ++i)
    if (parts[i].defined()) {
      T* dst = dQ + part_bh[i] * per_bh;
      const T* src = parts[i].data<T>();
      for (int64_t j = 0; j < per_bh; ++j) dst[j] += src[j];
    }
}

template <typename T>
void flash_backward(T* dQ, T* dK, T* dV, const T* dO, const T* Q, const T* K, const T* V, const T* O, const T* LSE,
                    const Dims& n, T scale, const MaskView& mv) {
  // Delta = rowsum(dO * O), once.
  std::vector<T> delta_all(static_cast<size_t>(n.B * n.H * n.Sq));
  parallel_for(n.B * n.H * n.Sq, 1024, [&](int64_t b0, int64_t e0) {
    for (int64_t i = b0; i < e0; ++i) {
      T dl = 0;
      for (int64_t d = 0; d < n.D; ++d) dl += dO[i * n.D + d] * O[i * n.D + d];
      delta_all[i] = dl;
    }
  });
  int64_t ktiles = (n.Skv + kTileK - 1) / kTileK;
  // Jobs are (batch-head, key tile): each owns its dK, dV rows; dQ is summed per chunk of jobs, (Sq, D) per batch-head.
  over_key_tiles<T>(n, ktiles, dQ, [&](int64_t, int64_t bh, int64_t kt0, int64_t kt1, T* dQb) {
    std::vector<T> S(kTileQ * kTileK), Kt(n.D * kTileK), Vt(n.D * kTileK), dP(kTileQ * kTileK);
    for (int64_t kt = kt0; kt < kt1; ++kt) {
      int64_t k0 = kt * kTileK, b = bh / n.H, h = bh % n.H;
      int64_t rk = std::min(kTileK, n.Skv - k0);
      const T* Qb = Q + bh * n.Sq * n.D;
      const T* Kb = K + bh * n.Skv * n.D;
      const T* dOb = dO + bh * n.Sq * n.D;
      const T* delta = delta_all.data() + bh * n.Sq;
      T* dKb = dK + bh * n.Skv * n.D;
      T* dVb = dV + bh * n.Skv * n.D;
      std::memset(dKb + k0 * n.D, 0, sizeof(T) * rk * n.D);
      std::memset(dVb + k0 * n.D, 0, sizeof(T) * rk * n.D);
      transpose_tile(Kt.data(), Kb + k0 * n.D, rk, n.D);
      transpose_tile(Vt.data(), V + (bh * n.Skv + k0) * n.D, rk, n.D);
      for (int64_t q0 = 0; q0 < n.Sq; q0 += kTileQ) {
        int64_t rq = std::min(kTileQ, n.Sq - q0);
        const T* Qt = Qb + q0 * n.D;
        // 1. P = exp(S - LSE): the probabilities, recomputed
        scores_tile(S.data(), Qt, Kt.data(), rq, rk, n.D, scale, mv, b, h, q0, k0);
        for (int64_t r = 0; r < rq; ++r) {
          T lse = LSE[bh * n.Sq + q0 + r];
          T* s = S.data() + r * kTileK;
          for (int64_t c = 0; c < rk; ++c) s[c] = std::exp(s[c] - lse);
        }
        // 2. dV_j += P^T dO_i
        for (int64_t r = 0; r < rq; ++r) {
          const T* s = S.data() + r * kTileK;
          const T* g = dOb + (q0 + r) * n.D;
          for (int64_t c = 0; c < rk; ++c) {
            T p = s[c];
            T* dv = dVb + (k0 + c) * n.D;
            for (int64_t d = 0; d < n.D; ++d) dv[d] += p * g[d];
          }
        }
        // 3. dP = dO_i V_j^T, 4. dS = P (dP - Delta) scale
        for (int64_t r = 0; r < rq; ++r) {
          T* dp = dP.data() + r * kTileK;
          for (int64_t c = 0; c < rk; ++c) dp[c] = 0;
          const T* g = dOb + (q0 + r) * n.D;
          for (int64_t d = 0; d < n.D; ++d) {
            T gd = g[d];
            const T* vt = Vt.data() + d * kTileK;
            for (int64_t c = 0; c < rk; ++c) dp[c] += gd * vt[c];
          }
          const T* s = S.data() + r * kTileK;
          T dl = delta[q0 + r];
          for (int64_t c = 0; c < rk; ++c) dp[c] = s[c] * (dp[c] - dl) * scale;
        }
        // 5. dQ_i += dS K_j ; 6. dK_j += dS^T Q_i
        for (int64_t r = 0; r < rq; ++r) {
          const T* ds = dP.data() + r * kTileK;
          T* dq = dQb + (q0 + r) * n.D;
          const T* qr = Qt + r * n.D;
          for (int64_t c = 0; c < rk; ++c) {
            T w = ds[c];
            const T* kr = Kb + (k0 + c) * n.D;
            T* dk = dKb + (k0 + c) * n.D;
            for (int64_t d = 0; d < n.D; ++d) {
              dq[d] += w * kr[d];
              dk[d] += w * qr[d];
            }
          }
        }
      }
    }
  });
}

#ifdef TR_HAVE_AVX512
// ---- the fast path: float32, AVX-512 -------------------------------------------------------------
// Tiles are transposed: queries run along the vector lanes, kQ queries (four vectors) per tile. Key
// tiles are as even as the sequence allows, at most kKmax keys (77 keys make one tile of 77, not 64 + 13).
namespace fast {
constexpr int64_t kQ = 64;
constexpr int64_t kKmax = 128;
using vec::exp512;
using vec::lanes;
using vec::mac;
using vec::transpose16;

inline int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

struct KeyTiles {
  int64_t count, size;  // tile t covers keys [t * size, min(Skv, (t + 1) * size))
};
inline KeyTiles key_tiles(int64_t Skv) {
  int64_t count = (Skv + kKmax - 1) / kKmax;
  return {count, (Skv + count - 1) / count};
}

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

// Qt (D x kQ) = scale * Q^T for the rq rows of Q (rq x D); zero beyond rq, up to the vector boundary.
void pack_transposed(float* Qt, const float* Q, int64_t rq, int64_t D, float scale) {
  for (int64_t r0 = 0; r0 < rq; r0 += 16)
    for (int64_t d0 = 0; d0 < D; d0 += 16)
      transpose16(Qt + d0 * kQ + r0, kQ, Q + r0 * D + d0, D, std::min<int64_t>(16, rq - r0), std::min<int64_t>(16, D - d0), lanes(16), scale);
}

// One query tile [q0, q0 + rq) of one batch-head: O rows and their log-sum-exp.
void forward_tile(float* O, float* LSE, const float* Q, const float* K, const float* V, const Dims& n, float scale,
                  const MaskView& mv, int64_t bh, int64_t q0, float* Qt, float* St, float* Ot) {
  int64_t rq = std::min(kQ, n.Sq - q0), W = round16(rq), nv = W / 16, D = n.D, b = bh / n.H, h = bh % n.H;
  const float* Kb = K + bh * n.Skv * D;
  const float* Vb = V + bh * n.Skv * D;
  pack_transposed(Qt, Q + (bh * n.Sq + q0) * D, rq, D, scale);
  for (int64_t d = 0; d < D; ++d) std::memset(Ot + d * kQ, 0, sizeof(float) * W);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m[kQ / 16], l[kQ / 16];
  for (int v = 0; v < kQ / 16; ++v) m[v] = ninf, l[v] = _mm512_setzero_ps();
  KeyTiles kt = key_tiles(n.Skv);
  for (int64_t k0 = 0; k0 < n.Skv; k0 += kt.size) {
    int64_t rk = std::min(kt.size, n.Skv - k0);
    // 1. St = K_j (rk x D) @ Qt (D x W): the scaled scores, keys by queries
    mac(St, kQ, Kb + k0 * D, D, 1, Qt, kQ, rk, D, W, false);
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
    mac(Ot, kQ, Vb + k0 * D, 1, D, St, kQ, D, rk, W, true);
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
  float* Ob = O + (bh * n.Sq + q0) * D;
  for (int64_t d0 = 0; d0 < D; d0 += 16)
    for (int64_t r0 = 0; r0 < rq; r0 += 16) {
      int64_t dd = std::min<int64_t>(16, D - d0);
      transpose16(Ob + r0 * D + d0, D, Ot + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), lanes(dd));
    }
}

void flash_forward(float* O, float* LSE, const float* Q, const float* K, const float* V, const Dims& n, float scale,
                   const MaskView& mv) {
  int64_t qtiles = (n.Sq + kQ - 1) / kQ;
  parallel_for(n.B * n.H * qtiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> Qt(n.D * kQ), St(kKmax * kQ), Ot(n.D * kQ);
    for (int64_t job = begin; job < end; ++job)
      forward_tile(O, LSE, Q, K, V, n, scale, mv, job / qtiles, (job % qtiles) * kQ, Qt.data(), St.data(), Ot.data());
  });
}

void flash_backward(float* dQ, float* dK, float* dV, const float* dO, const float* Q, const float* K, const float* V, const float* O,
                    const float* LSE, const Dims& n, float scale, const MaskView& mv) {
  KeyTiles kt = key_tiles(n.Skv);
  int64_t D = n.D, qtiles = (n.Sq + kQ - 1) / kQ, tile = D * kQ;
  // Per chunk, for the batch-head it runs: Qt = scale Q^T and dOt = dO^T per query tile (D x kQ), the
  // log-sum-exp (+inf beyond the live rows, so their P is 0), Delta = rowsum(dO * O) (0 beyond), and
  // dQ^T summed per query tile (D x kQ), added to dQ's rows when the batch-head is done.
  int64_t per_chunk = qtiles * (3 * tile + 2 * kQ);
  std::vector<Tensor> packs;
  for (int t = 0; t < num_threads(); ++t) packs.push_back(empty({per_chunk}, DType::F32));
  over_key_tiles<float>(n, kt.count, dQ, [&](int64_t chunk, int64_t bh, int64_t kt0, int64_t kt1, float* dq) {
    float* Qt_all = packs[chunk].data<float>();
    float* dOt_all = Qt_all + qtiles * tile;
    float* dqt = dOt_all + qtiles * tile;
    float* lse_p = dqt + qtiles * tile;
    float* delta_p = lse_p + qtiles * kQ;
    std::memset(dqt, 0, sizeof(float) * qtiles * tile);
    for (int64_t qt = 0; qt < qtiles; ++qt) {
      int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), row = bh * n.Sq + q0;
      pack_transposed(Qt_all + qt * tile, Q + row * D, rq, D, scale);
      pack_transposed(dOt_all + qt * tile, dO + row * D, rq, D, 1.0f);
      for (int64_t r = 0; r < kQ; ++r) {
        __m512 dl = _mm512_setzero_ps();
        if (r < rq)
          for (int64_t d = 0; d < D; d += 16) {
            __mmask16 m = lanes(D - d);
            dl = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, dO + (row + r) * D + d), _mm512_maskz_loadu_ps(m, O + (row + r) * D + d), dl);
          }
        delta_p[qt * kQ + r] = _mm512_reduce_add_ps(dl);
        lse_p[qt * kQ + r] = r < rq ? LSE[row + r] : std::numeric_limits<float>::infinity();
      }
    }
    alignas(64) float St[kKmax * kQ], dPt[kKmax * kQ];
    int64_t b = bh / n.H, h = bh % n.H;
    for (int64_t j = kt0; j < kt1; ++j) {
      int64_t k0 = j * kt.size, rk = std::min(kt.size, n.Skv - k0);
      const float* Kj = K + (bh * n.Skv + k0) * D;
      const float* Vj = V + (bh * n.Skv + k0) * D;
      float* dKj = dK + (bh * n.Skv + k0) * D;
      float* dVj = dV + (bh * n.Skv + k0) * D;
      std::memset(dKj, 0, sizeof(float) * rk * D);
      std::memset(dVj, 0, sizeof(float) * rk * D);
      for (int64_t qt = 0; qt < qtiles; ++qt) {
        int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0), W = round16(rq);
        const float* Qi = Q + (bh * n.Sq + q0) * D;
        const float* dOi = dO + (bh * n.Sq + q0) * D;
        // P^T = exp(K_j Qt - lse)
        mac(St, kQ, Kj, D, 1, Qt_all + qt * tile, kQ, rk, D, W, false);
        if (mv.base) add_mask(St, mv, b, h, q0, rq, k0, rk);
        for (int64_t r = 0; r < W; r += 16) {
          __m512 lse = _mm512_loadu_ps(lse_p + qt * kQ + r);
          for (int64_t c = 0; c < rk; ++c) _mm512_store_ps(St + c * kQ + r, exp512(_mm512_sub_ps(_mm512_load_ps(St + c * kQ + r), lse)));
        }
        // dV_j (rk x D) += P^T (rk x rq) @ dO_i (rq x D)
        mac(dVj, D, St, kQ, 1, dOi, D, rk, rq, D, true);
        // dP^T = V_j dO_i^T; dS^T = P^T (dP^T - Delta) scale
        mac(dPt, kQ, Vj, D, 1, dOt_all + qt * tile, kQ, rk, D, W, false);
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
        mac(dKj, D, dPt, kQ, 1, Qi, D, rk, rq, D, true);
        mac(dqt + qt * tile, kQ, Kj, 1, D, dPt, kQ, D, rk, W, true);
      }
    }
    for (int64_t qt = 0; qt < qtiles; ++qt) {
      int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0);
      for (int64_t d0 = 0; d0 < D; d0 += 16)
        for (int64_t r0 = 0; r0 < rq; r0 += 16) {
          int64_t dd = std::min<int64_t>(16, D - d0);
          transpose16(dq + (q0 + r0) * D + d0, D, dqt + qt * tile + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), lanes(dd), 1.0f, true);
        }
    }
  });
}
}  // namespace fast
#endif

#if defined(TR_HAVE_AVX512) && defined(__AVX512BF16__)
#define TR_HAVE_BF16_DOT 1
// ---- the bf16 path: vdpbf16ps on bf16 tiles, float32 sums ----------------------------------------
// The fast path's scheme and transposed tiles with bf16 inputs (q, k, v, dO stay bf16): every tile
// product is vec::mac_bf16, whose operands are bf16 pairs along the product's reduction dimension in
// 32-bit words ("words" below), packed once per tile or per batch-head, an odd length padded with a
// zero. The scale multiplies the float32 scores (scaling bf16 q would round it again); P and dS are
// rounded to bf16 for the products that read them; the softmax statistics, the rescaling and every
// accumulator stay float32, and O, dK, dV (dQ after its fixed-order sum) are rounded to bf16 once.
namespace fast16 {
using fast::kKmax;
using fast::kQ;
using fast::KeyTiles;
using fast::round16;
using vec::lanes;
using vec::mac_bf16;
using vec::transpose16;
using vec::transpose16_words;

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
void forward_tile(uint16_t* O, float* LSE, const uint16_t* Q, const uint32_t* Kw, const uint32_t* Vtw, int64_t ldv, const Dims& n,
                  float scale, const MaskView& mv, int64_t bh, int64_t q0, uint32_t* Qw, float* St, uint32_t* Pw, float* Ot, float* Or) {
  int64_t rq = std::min(kQ, n.Sq - q0), W = round16(rq), nv = W / 16, D = n.D, Dw = pairs(D);
  words_of_rows_t(Qw, kQ, Q + (bh * n.Sq + q0) * D, D, rq, D);
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
  uint16_t* Ob = O + (bh * n.Sq + q0) * D;
  for (int64_t r = 0; r < rq; ++r) {
    __m512 inv = _mm512_set1_ps(ll[r] > 0 ? 1.0f / ll[r] : std::numeric_limits<float>::quiet_NaN());
    for (int64_t d = 0; d < D; d += 16)
      vec::store16(Ob + r * D + d, _mm512_mul_ps(vec::load16(Or + r * D + d, lanes(D - d)), inv), lanes(D - d));
  }
}

void flash_forward(uint16_t* O, float* LSE, const uint16_t* Q, const uint16_t* K, const uint16_t* V, const Dims& n, float scale,
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
        words_of_rows(Kw.data(), Dw, K + bh * n.Skv * D, D, n.Skv, D);
        words_of_row_pairs_t(Vtw.data(), ldv, V + bh * n.Skv * D, D, n.Skv, D);
        packed = bh;
      }
      forward_tile(O, LSE, Q, Kw.data(), Vtw.data(), ldv, n, scale, mv, bh, (job % qtiles) * kQ, Qw.data(), St.data(), Pw.data(),
                   Ot.data(), Or.data());
    }
  });
}

// dQ float32 (summed in over_key_tiles' fixed order, rounded by the caller); dK, dV bf16.
void flash_backward(float* dQ, uint16_t* dK, uint16_t* dV, const uint16_t* dO, const uint16_t* Q, const uint16_t* K, const uint16_t* V,
                    const uint16_t* O, const float* LSE, const Dims& n, float scale, const MaskView& mv) {
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
  over_key_tiles<float>(n, kt.count, dQ, [&](int64_t chunk, int64_t bh, int64_t kt0, int64_t kt1, float* dq) {
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
      words_of_rows_t(Qt_all + qt * tile_t, kQ, Q + row * D, D, rq, D);
      words_of_rows_t(dOt_all + qt * tile_t, kQ, dO + row * D, D, rq, D);
      words_of_row_pairs(Qp_all + qt * tile_p, D, Q + row * D, D, rq, D, kQ / 2);
      words_of_row_pairs(dOp_all + qt * tile_p, D, dO + row * D, D, rq, D, kQ / 2);
      for (int64_t r = 0; r < kQ; ++r) {
        __m512 dl = _mm512_setzero_ps();
        if (r < rq)
          for (int64_t d = 0; d < D; d += 16) {
            __mmask16 m = lanes(D - d);
            dl = _mm512_fmadd_ps(vec::load16(dO + (row + r) * D + d, m), vec::load16(O + (row + r) * D + d, m), dl);
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
      int64_t k0 = j * kt.size, rk = std::min(kt.size, n.Skv - k0), row = bh * n.Skv + k0;
      words_of_rows(Kw, Dw, K + row * D, D, rk, D);
      words_of_rows(Vw, Dw, V + row * D, D, rk, D);
      words_of_row_pairs_t(Ktw, kKmax / 2, K + row * D, D, rk, D);
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
      for (int64_t i = 0; i < rk * D; i += 16) {
        vec::store16(dK + row * D + i, vec::load16(dKf + i, lanes(rk * D - i)), lanes(rk * D - i));
        vec::store16(dV + row * D + i, vec::load16(dVf + i, lanes(rk * D - i)), lanes(rk * D - i));
      }
    }
    for (int64_t qt = 0; qt < qtiles; ++qt) {
      int64_t q0 = qt * kQ, rq = std::min(kQ, n.Sq - q0);
      for (int64_t d0 = 0; d0 < D; d0 += 16)
        for (int64_t r0 = 0; r0 < rq; r0 += 16) {
          int64_t dd = std::min<int64_t>(16, D - d0);
          transpose16(dq + (q0 + r0) * D + d0, D, dqt + qt * tile_f + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), lanes(dd), 1.0f, true);
        }
    }
  });
}
}  // namespace fast16
#endif

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
    fast16::flash_forward(out.data<uint16_t>(), lse.data<float>(), q.data<uint16_t>(), k.data<uint16_t>(), v.data<uint16_t>(), n,
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
    if (fast) fast::flash_forward(outf.data<float>(), lse.data<float>(), qf.data<float>(), kf.data<float>(), vf.data<float>(), n, static_cast<float>(scale), mv);
#endif
    if (!fast) TR_FLOAT_DISPATCH(dt, T, {
      flash_forward<T>(outf.data<T>(), lse.data<T>(), qf.data<T>(), kf.data<T>(), vf.data<T>(), n, static_cast<T>(scale), mv);
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
        fast16::flash_backward(dqf.data<float>(), dk.data<uint16_t>(), dv.data<uint16_t>(), dout.data<uint16_t>(), sq.data<uint16_t>(),
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
        fast::flash_backward(dq.data<float>(), dk.data<float>(), dv.data<float>(), dout.data<float>(), qf.data<float>(), kf.data<float>(),
                             vf.data<float>(), so.data<float>(), lse.data<float>(), n, static_cast<float>(scale), m);
#endif
      if (!fast) TR_FLOAT_DISPATCH(dt, T, {
        flash_backward<T>(dq.data<T>(), dk.data<T>(), dv.data<T>(), dout.data<T>(), qf.data<T>(), kf.data<T>(), vf.data<T>(),
                          so.data<T>(), lse.data<T>(), n, static_cast<T>(scale), m);
      });
      if (bf16) return {narrow_bf16(dq), narrow_bf16(dk), narrow_bf16(dv)};
      return {dq, dk, dv};
    });
  }
  return out;
}

}  // namespace tr
