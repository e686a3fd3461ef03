// flash_attention_plain.cpp: the fused attention's plain loops (float32 and float64), forward and
// backward side by side: the reference the fast paths are tested against, and the float64 path
// (TREEREWARD_ATTENTION=plain forces them for float32; bf16 then goes through the float32 op). Also
// the backward's work split (over_key_tiles), which all three implementations use.
// Forward: tiles of queries against tiles of keys with an online softmax; saves only the output and
// the per-row log-sum-exp. Backward: Delta = rowsum(dO * O), then per (batch, head) the probabilities
// are recomputed tile by tile: dV += P^T dO, dP = dO V^T, dS = P (dP - Delta), dK += dS^T Q scale,
// dQ += dS K scale. Shapes: flash_attention_impl.h.
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/flash_attention_impl.h"

namespace tr::attn {

namespace {
constexpr int64_t kTileQ = 64;   // query rows per tile
constexpr int64_t kTileK = 128;  // key rows per tile

template <typename T>
inline T mask_at(const MaskView& m, int64_t b, int64_t h, int64_t q, int64_t k) {
  return static_cast<const T*>(m.base)[b * m.sb + h * m.sh + q * m.sq + k * m.sk];
}

// S (rq x rk) = scale * Q (rq x D, row stride ldq) K^T (D x rk) + mask, with Kt the key tile transposed (D x rk).
template <typename T>
void scores_tile(T* S, const T* Q, int64_t ldq, const T* Kt, int64_t rq, int64_t rk, int64_t D, T scale, const MaskView& mv, int64_t b,
                 int64_t h, int64_t q0, int64_t k0) {
  for (int64_t r = 0; r < rq; ++r) {
    T* s = S + r * kTileK;
    for (int64_t c = 0; c < rk; ++c) s[c] = 0;
    const T* qr = Q + r * ldq;
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
void transpose_tile(T* Kt, const T* K, int64_t ldk, int64_t rk, int64_t D) {  // K (rk x D, row stride ldk) -> Kt (D x kTileK)
  for (int64_t c = 0; c < rk; ++c)
    for (int64_t d = 0; d < D; ++d) Kt[d * kTileK + c] = K[c * ldk + d];
}

// S rows of D values (row stride ld) set to zero, or src (S x D, row-major) added to them.
template <typename T>
void zero_rows(T* dst, int64_t ld, int64_t S, int64_t D) {
  for (int64_t s = 0; s < S; ++s) std::memset(dst + s * ld, 0, sizeof(T) * D);
}
template <typename T>
void add_rows(T* dst, int64_t ld, const T* src, int64_t S, int64_t D) {
  for (int64_t s = 0; s < S; ++s)
    for (int64_t d = 0; d < D; ++d) dst[s * ld + d] += src[s * D + d];
}
}  // namespace

template <typename T>
void flash_forward(const Rows<T>& O, T* LSE, const Rows<const T>& Q, const Rows<const T>& K, const Rows<const T>& V, const Dims& n,
                   T scale, const MaskView& mv) {
  int64_t qtiles = (n.Sq + kTileQ - 1) / kTileQ;
  parallel_for(n.B * n.H * qtiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> S(kTileQ * kTileK), Kt(n.D * kTileK), acc(kTileQ * n.D), m(kTileQ), l(kTileQ);
    for (int64_t job = begin; job < end; ++job) {
      int64_t bh = job / qtiles, qt = job % qtiles, b = bh / n.H, h = bh % n.H;
      int64_t q0 = qt * kTileQ, rq = std::min(kTileQ, n.Sq - q0);
      const T* Qt = Q.row(bh, q0);
      const T* Kb = K.head(bh);
      const T* Vb = V.head(bh);
      std::fill(acc.begin(), acc.begin() + rq * n.D, T(0));
      std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
      std::fill(l.begin(), l.end(), T(0));
      for (int64_t k0 = 0; k0 < n.Skv; k0 += kTileK) {
        int64_t rk = std::min(kTileK, n.Skv - k0);
        transpose_tile(Kt.data(), Kb + k0 * K.ld, K.ld, rk, n.D);
        scores_tile(S.data(), Qt, Q.ld, Kt.data(), rq, rk, n.D, scale, mv, b, h, q0, k0);
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
            const T* vr = Vb + (k0 + c) * V.ld;
            for (int64_t d = 0; d < n.D; ++d) a[d] += p * vr[d];
          }
        }
      }
      for (int64_t r = 0; r < rq; ++r) {
        T inv = l[r] > 0 ? T(1) / l[r] : std::numeric_limits<T>::quiet_NaN();
        T* o = O.row(bh, q0 + r);
        const T* a = acc.data() + r * n.D;
        for (int64_t d = 0; d < n.D; ++d) o[d] = a[d] * inv;
        LSE[bh * n.Sq + q0 + r] = m[r] + std::log(l[r]);
      }
    }
  });
}

// The work split: flash_attention_impl.h.
template <typename T>
void over_key_tiles(const Dims& n, int64_t ktiles, const Rows<T>& dQ,
                    const std::function<void(int64_t, int64_t, int64_t, int64_t, T*, int64_t)>& body) {
  int64_t BH = n.B * n.H, jobs = BH * ktiles, per_bh = n.Sq * n.D;
  if (jobs == 0) {
    for (int64_t bh = 0; bh < BH; ++bh) zero_rows(dQ.head(bh), dQ.ld, n.Sq, n.D);
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
        int64_t kt0, kt1, ldq = dQ.ld;
        T* dq = dQ.head(bh);
        zero_rows(dq, ldq, n.Sq, n.D);  // here rather than all at once: in parallel, and hot for body
        if (tiles_of(c, bh, kt0, kt1)) {
          dq = (parts[2 * c].defined() && part_bh[2 * c] == bh ? parts[2 * c] : parts[2 * c + 1]).data<T>();
          ldq = n.D;
        }
        body(c, bh, kt0, kt1, dq, ldq);
      }
  });
  for (int64_t i = 0; i < 2 * chunks; ++i)
    if (parts[i].defined()) add_rows(dQ.head(part_bh[i]), dQ.ld, parts[i].data<T>(), n.Sq, n.D);
}

template <typename T>
void flash_backward(const Rows<T>& dQ, const Rows<T>& dK, const Rows<T>& dV, const Rows<const T>& dO, const Rows<const T>& Q,
                    const Rows<const T>& K, const Rows<const T>& V, const Rows<const T>& O, const T* LSE, const Dims& n, T scale,
                    const MaskView& mv) {
  // Delta = rowsum(dO * O), once.
  std::vector<T> delta_all(static_cast<size_t>(n.B * n.H * n.Sq));
  parallel_for(n.B * n.H * n.Sq, 1024, [&](int64_t b0, int64_t e0) {
    for (int64_t i = b0; i < e0; ++i) {
      const T* g = dO.row(i / n.Sq, i % n.Sq);
      const T* o = O.row(i / n.Sq, i % n.Sq);
      T dl = 0;
      for (int64_t d = 0; d < n.D; ++d) dl += g[d] * o[d];
      delta_all[i] = dl;
    }
  });
  int64_t ktiles = (n.Skv + kTileK - 1) / kTileK;
  // Jobs are (batch-head, key tile): each owns its dK, dV rows; dQ is summed per chunk of jobs, (Sq, D) per batch-head.
  over_key_tiles<T>(n, ktiles, dQ, [&](int64_t, int64_t bh, int64_t kt0, int64_t kt1, T* dQb, int64_t ldq) {
    std::vector<T> S(kTileQ * kTileK), Kt(n.D * kTileK), Vt(n.D * kTileK), dP(kTileQ * kTileK);
    for (int64_t kt = kt0; kt < kt1; ++kt) {
      int64_t k0 = kt * kTileK, b = bh / n.H, h = bh % n.H;
      int64_t rk = std::min(kTileK, n.Skv - k0);
      const T* Qb = Q.head(bh);
      const T* Kb = K.head(bh);
      const T* dOb = dO.head(bh);
      const T* delta = delta_all.data() + bh * n.Sq;
      T* dKb = dK.head(bh);
      T* dVb = dV.head(bh);
      zero_rows(dKb + k0 * dK.ld, dK.ld, rk, n.D);
      zero_rows(dVb + k0 * dV.ld, dV.ld, rk, n.D);
      transpose_tile(Kt.data(), Kb + k0 * K.ld, K.ld, rk, n.D);
      transpose_tile(Vt.data(), V.row(bh, k0), V.ld, rk, n.D);
      for (int64_t q0 = 0; q0 < n.Sq; q0 += kTileQ) {
        int64_t rq = std::min(kTileQ, n.Sq - q0);
        const T* Qt = Qb + q0 * Q.ld;
        // 1. P = exp(S - LSE): the probabilities, recomputed
        scores_tile(S.data(), Qt, Q.ld, Kt.data(), rq, rk, n.D, scale, mv, b, h, q0, k0);
        for (int64_t r = 0; r < rq; ++r) {
          T lse = LSE[bh * n.Sq + q0 + r];
          T* s = S.data() + r * kTileK;
          for (int64_t c = 0; c < rk; ++c) s[c] = std::exp(s[c] - lse);
        }
        // 2. dV_j += P^T dO_i
        for (int64_t r = 0; r < rq; ++r) {
          const T* s = S.data() + r * kTileK;
          const T* g = dOb + (q0 + r) * dO.ld;
          for (int64_t c = 0; c < rk; ++c) {
            T p = s[c];
            T* dv = dVb + (k0 + c) * dV.ld;
            for (int64_t d = 0; d < n.D; ++d) dv[d] += p * g[d];
          }
        }
        // 3. dP = dO_i V_j^T, 4. dS = P (dP - Delta) scale
        for (int64_t r = 0; r < rq; ++r) {
          T* dp = dP.data() + r * kTileK;
          for (int64_t c = 0; c < rk; ++c) dp[c] = 0;
          const T* g = dOb + (q0 + r) * dO.ld;
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
          T* dq = dQb + (q0 + r) * ldq;
          const T* qr = Qt + r * Q.ld;
          for (int64_t c = 0; c < rk; ++c) {
            T w = ds[c];
            const T* kr = Kb + (k0 + c) * K.ld;
            T* dk = dKb + (k0 + c) * dK.ld;
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

template void flash_forward<float>(const Rows<float>&, float*, const Rows<const float>&, const Rows<const float>&,
                                   const Rows<const float>&, const Dims&, float, const MaskView&);
template void flash_forward<double>(const Rows<double>&, double*, const Rows<const double>&, const Rows<const double>&,
                                    const Rows<const double>&, const Dims&, double, const MaskView&);
template void flash_backward<float>(const Rows<float>&, const Rows<float>&, const Rows<float>&, const Rows<const float>&,
                                    const Rows<const float>&, const Rows<const float>&, const Rows<const float>&,
                                    const Rows<const float>&, const float*, const Dims&, float, const MaskView&);
template void flash_backward<double>(const Rows<double>&, const Rows<double>&, const Rows<double>&, const Rows<const double>&,
                                     const Rows<const double>&, const Rows<const double>&, const Rows<const double>&,
                                     const Rows<const double>&, const double*, const Dims&, double, const MaskView&);
template void over_key_tiles<float>(const Dims&, int64_t, const Rows<float>&,
                                    const std::function<void(int64_t, int64_t, int64_t, int64_t, float*, int64_t)>&);
template void over_key_tiles<double>(const Dims&, int64_t, const Rows<double>&,
                                     const std::function<void(int64_t, int64_t, int64_t, int64_t, double*, int64_t)>&);

}  // namespace tr::attn
