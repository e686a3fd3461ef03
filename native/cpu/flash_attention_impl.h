// flash_attention_impl.h: what the files of the fused CPU attention share (internal to native/cpu/flash_attention*.cpp):
// the sizes, the mask's strides, the backward's work split and the forward and backward of each implementation.
// q (B, H, Sq, D), k and v (B, H, Skv, D), the output like q: each with any strides for batch, head and row,
// D contiguous (Rows); the log-sum-exp (B, H, Sq) contiguous.
//   flash_attention.cpp        the op: checks, dispatch, autograd record, bf16 <-> f32 copies
//   flash_attention_plain.cpp  the plain loops (float32, float64): the reference, and the work split
//   flash_attention_f32.cpp    namespace fast: float32 on AVX-512
//   flash_attention_bf16.cpp   namespace fast16: bf16 products (vdpbf16ps) on AVX512-BF16
#pragma once
#include <cstdint>
#include <functional>

#include "cpu/kernel_util.h"
#include "cpu/vec_avx512.h"

#if defined(TR_HAVE_AVX512) && defined(__AVX512BF16__)
#define TR_HAVE_BF16_DOT 1
#endif

namespace tr::attn {

struct Dims {
  int64_t B, H, Sq, Skv, D;
};

// Strides of a mask broadcast to (B, H, Sq, Skv); all zero when there is no mask.
struct MaskView {
  const void* base = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  bool bf16 = false;  // bf16 elements (only on the bf16 path), else the compute type
};

// The rows of a (B, H, S, D) operand whose D is contiguous: row s of batch-head bh = b H + h starts at
// base + b sb + h sh + s ld. So a (B, S, H, D) buffer seen as (B, H, S, D) (the models' head split)
// is read and written in place; a contiguous tensor has sb = H S D, sh = S D, ld = D.
template <typename T>
struct Rows {
  T* base = nullptr;
  int64_t sb = 0, sh = 0, ld = 0, H = 1;
  T* head(int64_t bh) const { return base + (bh / H) * sb + (bh % H) * sh; }  // row 0 of batch-head bh
  T* row(int64_t bh, int64_t s) const { return head(bh) + s * ld; }
};

// The backward's work split: the (batch-head, key tile) pairs, bh-major, in one contiguous run per
// thread ("chunk"). body(chunk, bh, kt0, kt1, dq) runs key tiles [kt0, kt1) of batch-head bh and adds
// their dQ contributions to dq (Sq x D, row stride ldq): the batch-head's rows of dQ itself when the chunk
// runs all of its key tiles (no other chunk touches them), else a zeroed buffer that is added to dQ
// after all chunks (ldq = D), in chunk order. So the result depends on the thread count but not on timing.
// T is float or double.
template <typename T>
void over_key_tiles(const Dims& n, int64_t ktiles, const Rows<T>& dQ,
                    const std::function<void(int64_t, int64_t, int64_t, int64_t, T*, int64_t)>& body);

// The plain loops, T float or double: O and LSE from Q, K, V; dQ, dK, dV from dO and what the forward saved.
template <typename T>
void flash_forward(const Rows<T>& O, T* LSE, const Rows<const T>& Q, const Rows<const T>& K, const Rows<const T>& V, const Dims& n,
                   T scale, const MaskView& mv);
template <typename T>
void flash_backward(const Rows<T>& dQ, const Rows<T>& dK, const Rows<T>& dV, const Rows<const T>& dO, const Rows<const T>& Q,
                    const Rows<const T>& K, const Rows<const T>& V, const Rows<const T>& O, const T* LSE, const Dims& n, T scale,
                    const MaskView& mv);

#ifdef TR_HAVE_AVX512
// The fast path (float32, AVX-512). Its tiles: kQ queries along the vector lanes; key tiles as even as
// the sequence allows, at most kKmax keys (77 keys make one tile of 77, not 64 + 13).
namespace fast {
constexpr int64_t kQ = 64;
constexpr int64_t kKmax = 128;

inline int64_t round16(int64_t x) { return (x + 15) / 16 * 16; }

struct KeyTiles {
  int64_t count, size;  // tile t covers keys [t * size, min(Skv, (t + 1) * size))
};
inline KeyTiles key_tiles(int64_t Skv) {
  int64_t count = (Skv + kKmax - 1) / kKmax;
  return {count, (Skv + count - 1) / count};
}

// dQ's rows (Sq x D, leading dimension ldq) += the backward's transposed per-query-tile sums dqt
// (tile t: D x kQ, `tile` floats from the last): both fast paths end their batch-head this way.
inline void add_transposed_dq(float* dq, int64_t ldq, const float* dqt, int64_t tile, int64_t Sq, int64_t D) {
  for (int64_t q0 = 0, qt = 0; q0 < Sq; q0 += kQ, ++qt) {
    int64_t rq = std::min(kQ, Sq - q0);
    for (int64_t d0 = 0; d0 < D; d0 += 16)
      for (int64_t r0 = 0; r0 < rq; r0 += 16) {
        int64_t dd = std::min<int64_t>(16, D - d0);
        vec::transpose16(dq + (q0 + r0) * ldq + d0, ldq, dqt + qt * tile + d0 * kQ + r0, kQ, dd, std::min<int64_t>(16, rq - r0), vec::lanes(dd), 1.0f, true);
      }
  }
}

using RowsF = Rows<float>;
using CRowsF = Rows<const float>;
void flash_forward(const RowsF& O, float* LSE, const CRowsF& Q, const CRowsF& K, const CRowsF& V, const Dims& n, float scale,
                   const MaskView& mv);
void flash_backward(const RowsF& dQ, const RowsF& dK, const RowsF& dV, const CRowsF& dO, const CRowsF& Q, const CRowsF& K,
                    const CRowsF& V, const CRowsF& O, const float* LSE, const Dims& n, float scale, const MaskView& mv);
}  // namespace fast
#endif

#ifdef TR_HAVE_BF16_DOT
// The bf16 path (AVX512-BF16): bf16 q, k, v, dO and O (uint16_t), float32 log-sum-exp; dQ float32
// (summed in over_key_tiles' fixed order, rounded by the caller), dK and dV bf16.
namespace fast16 {
using Rows16 = Rows<uint16_t>;
using CRows16 = Rows<const uint16_t>;
void flash_forward(const Rows16& O, float* LSE, const CRows16& Q, const CRows16& K, const CRows16& V, const Dims& n, float scale,
                   const MaskView& mv);
void flash_backward(const Rows<float>& dQ, const Rows16& dK, const Rows16& dV, const CRows16& dO, const CRows16& Q, const CRows16& K,
                    const CRows16& V, const CRows16& O, const float* LSE, const Dims& n, float scale, const MaskView& mv);
}  // namespace fast16
#endif

}  // namespace tr::attn
