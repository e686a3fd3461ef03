// flash_attention.cpp: fused scaled dot-product attention (FlashAttention-2 scheme) on the CPU.
// Forward: tiles of queries against tiles of keys with an online softmax; saves only the output
// and the per-row log-sum-exp. Backward: Delta = rowsum(dO * O), then per (batch, head) the
// probabilities are recomputed tile by tile: dV += P^T dO, dP = dO V^T, dS = P (dP - Delta),
// dK += dS^T Q scale, dQ += dS K scale. The Sq x Skv matrix is never materialised: memory grows
// linearly with sequence length. q (B, H, Sq, D), k and v (B, H, Skv, D), mask additive and
// broadcastable to (B, H, Sq, Skv) or undefined. Work is split over (batch, head, query tile)
// forward and over (batch, head, key tile) backward: dK and dV rows belong to one job, dQ is summed
// in per-thread buffers.
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

#include "cpu/kernel_util.h"

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
  std::memset(dQ, 0, sizeof(T) * n.B * n.H * n.Sq * n.D);
  int64_t ktiles = (n.Skv + kTileK - 1) / kTileK;
  std::mutex dq_mutex;
  // Jobs are (batch-head, key tile): each owns its dK, dV rows; dQ is summed in a per-thread buffer
  // over the batch-heads the thread's range touches, then added under a lock.
  parallel_for(n.B * n.H * ktiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> S(kTileQ * kTileK), Kt(n.D * kTileK), Vt(n.D * kTileK), dP(kTileQ * kTileK);
    int64_t bh_first = begin / ktiles, bh_last = (end - 1) / ktiles;
    std::vector<T> dq_local(static_cast<size_t>((bh_last - bh_first + 1) * n.Sq * n.D), T(0));
    for (int64_t job = begin; job < end; ++job) {
      int64_t bh = job / ktiles, k0 = (job % ktiles) * kTileK, b = bh / n.H, h = bh % n.H;
      int64_t rk = std::min(kTileK, n.Skv - k0);
      const T* Qb = Q + bh * n.Sq * n.D;
      const T* Kb = K + bh * n.Skv * n.D;
      const T* dOb = dO + bh * n.Sq * n.D;
      const T* delta = delta_all.data() + bh * n.Sq;
      T* dQb = dq_local.data() + (bh - bh_first) * n.Sq * n.D;
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
    std::lock_guard<std::mutex> lock(dq_mutex);
    T* dst = dQ + bh_first * n.Sq * n.D;
    for (size_t i = 0; i < dq_local.size(); ++i) dst[i] += dq_local[i];
  });
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
  check_cpu(q_in, "attention");
  if (lowp(q_in)) return cast(attention(up(q_in), up(k_in), up(v_in), up(mask_in), scale), q_in.dtype());
  Dims n{q_in.shape()[0], q_in.shape()[1], q_in.shape()[2], k_in.shape()[2], q_in.shape()[3]};
  Tensor mask;
  if (mask_in.defined()) {
    broadcast_shapes(mask_in.shape(), {n.B, n.H, n.Sq, n.Skv}, "attention mask");
    check(mask_in.rank() <= 4, ErrorCode::SHAPE_MISMATCH, "Expected a mask of rank <= 4 for attention but received ", shape_str(mask_in.shape()));
    mask = cast_raw(mask_in, q_in.dtype());
  }
  Tensor q = contiguous(q_in), k = contiguous(k_in), v = contiguous(v_in);
  Tensor out = empty(q.shape(), q.dtype());
  Tensor lse = empty({n.B, n.H, n.Sq}, q.dtype());
  MaskView mv = mask_view(mask, n);
  TR_FLOAT_DISPATCH(q.dtype(), T, {
    flash_forward<T>(out.data<T>(), lse.data<T>(), q.data<T>(), k.data<T>(), v.data<T>(), n, static_cast<T>(scale), mv);
  });
  if (needs_grad({q_in, k_in, v_in})) {
    // Saved: q, k, v, the output and the log-sum-exp (and the mask, an input).
    Tensor sq = q.detach(), sk = k.detach(), sv = v.detach(), so = out.detach(), sm = mask;
    record(out, Op::Attention, {q_in, k_in, v_in}, [sq, sk, sv, so, lse, sm, n, scale](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dq = empty(sq.shape(), sq.dtype()), dk = empty(sk.shape(), sk.dtype()), dv = empty(sv.shape(), sv.dtype());
      MaskView m = mask_view(sm, n);
      TR_FLOAT_DISPATCH(sq.dtype(), T, {
        flash_backward<T>(dq.data<T>(), dk.data<T>(), dv.data<T>(), dout.data<T>(), sq.data<T>(), sk.data<T>(), sv.data<T>(),
                          so.data<T>(), lse.data<T>(), n, static_cast<T>(scale), m);
      });
      return {dq, dk, dv};
    });
  }
  return out;
}

}  // namespace tr
