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
}  // namespace

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

// The work split: flash_attention_impl.h.
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

template void flash_forward<float>(float*, float*, const float*, const float*, const float*, const Dims&, float, const MaskView&);
template void flash_forward<double>(double*, double*, const double*, const double*, const double*, const Dims&, double, const MaskView&);
template void flash_backward<float>(float*, float*, float*, const float*, const float*, const float*, const float*, const float*,
                                    const float*, const Dims&, float, const MaskView&);
template void flash_backward<double>(double*, double*, double*, const double*, const double*, const double*, const double*,
                                     const double*, const double*, const Dims&, double, const MaskView&);
template void over_key_tiles<float>(const Dims&, int64_t, float*, const std::function<void(int64_t, int64_t, int64_t, int64_t, float*)>&);
template void over_key_tiles<double>(const Dims&, int64_t, double*, const std::function<void(int64_t, int64_t, int64_t, int64_t, double*)>&);

}  // namespace tr::attn
