// attention.cu: fused scaled dot-product attention on the GPU, FlashAttention-2's scheme (the same
// one as native/cpu/flash_attention.cpp): q (B, H, Sq, D), k and v (B, H, Skv, D), an additive mask
// broadcast to (B, H, Sq, Skv) by strides, or none.
//   forward: one block per (batch-head, tile of BQ queries); the query tile stays in shared memory
//     while key/value tiles of BK rows stream past: S = Q K^T, online softmax (running max m and sum l
//     per row, the output accumulator rescaled by exp(m_old - m_new)), O += P V. Saves only the
//     output and the row log-sum-exp (float32).
//   backward: Delta = rowsum(dO * O) in a pre-pass; then one block per (batch-head, key tile): dK and
//     dV of its keys accumulate in shared memory (float32) over all query tiles, with P recomputed
//     from the saved log-sum-exp: dV += P^T dO, dP = dO V^T, dS = P (dP - Delta) scale, dK += dS^T Q,
//     dQ += dS K added atomically into a float32 dQ (so float32 accumulation across key tiles; the
//     order of those additions is not fixed, so dQ can differ in the last bits between runs).
// Tile products: tensor cores (WMMA 16x16x16, float32 accumulators) for bfloat16 and float16 on
// sm_80 and newer; a plain float32 shared-memory loop otherwise (float32 inputs). Every product goes
// shared memory -> fragments -> shared memory, so the softmax and the rescaling read plain arrays.
// Head dims up to 160 (SD1.5's 40, 80, 160; BLIP's 64), padded with zeros to a multiple of 16.
#include <mma.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <type_traits>

#include "cuda/cuda_kernels_b.h"
#include "cuda/cuda_types.cuh"

namespace tr {

namespace {

constexpr int kWarps = 4;
constexpr int kBlock = kWarps * 32;
constexpr int kMaxHeadDim = 160;

template <typename T> constexpr bool kTensorCore = !std::is_same<T, float>::value;
// Row padding: 16-bit tiles 8 elements (16 bytes: WMMA's ldm rule, and rows start on new banks);
// the float32 path 1 element (odd strides spread its column reads over the banks).
template <typename T> constexpr int kPadT = kTensorCore<T> ? 8 : 1;
template <typename T> constexpr int kPadF = kTensorCore<T> ? 4 : 1;  // float32 tiles (ldm multiple of 4)

__host__ __device__ constexpr size_t align128(size_t b) { return (b + 127) / 128 * 128; }

// Shared memory of the forward: Q (BQ x Dp), K and V (BK x Dp) in T; S (BQ x BK) float; P (BQ x BK) in T;
// the output accumulator O (BQ x Dp) float.
template <typename T, int Dp>
struct FwdLayout {
  static constexpr int BQ = kTensorCore<T> ? 64 : 32, BK = BQ;
  static constexpr int LDT = Dp + kPadT<T>, LDS = BK + kPadF<T>, LDP = BK + kPadT<T>, LDO = Dp + kPadF<T>;
  static constexpr size_t q = 0;
  static constexpr size_t k = q + align128(sizeof(T) * BQ * LDT);
  static constexpr size_t v = k + align128(sizeof(T) * BK * LDT);
  static constexpr size_t s = v + align128(sizeof(T) * BK * LDT);
  static constexpr size_t p = s + align128(sizeof(float) * BQ * LDS);
  static constexpr size_t o = p + align128(sizeof(T) * BQ * LDP);
  static constexpr size_t bytes = o + align128(sizeof(float) * BQ * LDO);
};

// Shared memory of the backward: K, V (BK x Dp) and Q, dO (BQ x Dp) in T; S and dP (BQ x BK) float,
// whose space dQ's tile (BQ x Dp, float) reuses; P and dS (BQ x BK) in T; dK, dV (BK x Dp) float;
// the tile's log-sum-exp and Delta. 64 x 64 tiles up to Dp 64, 32 x 32 above (sm_80's 163 KB).
template <typename T, int Dp>
struct BwdLayout {
  static constexpr int BQ = (kTensorCore<T> && Dp <= 64) ? 64 : 32, BK = BQ;
  static constexpr int LDT = Dp + kPadT<T>, LDS = BK + kPadF<T>, LDP = BK + kPadT<T>, LDO = Dp + kPadF<T>;
  static constexpr size_t u_bytes = sizeof(float) * (2 * BQ * LDS > BQ * LDO ? 2 * BQ * LDS : BQ * LDO);
  static constexpr size_t k = 0;
  static constexpr size_t v = k + align128(sizeof(T) * BK * LDT);
  static constexpr size_t q = v + align128(sizeof(T) * BK * LDT);
  static constexpr size_t dout = q + align128(sizeof(T) * BQ * LDT);
  static constexpr size_t u = dout + align128(sizeof(T) * BQ * LDT);
  static constexpr size_t p = u + align128(u_bytes);
  static constexpr size_t ds = p + align128(sizeof(T) * BQ * LDP);
  static constexpr size_t dk = ds + align128(sizeof(T) * BQ * LDP);
  static constexpr size_t dv = dk + align128(sizeof(float) * BK * LDO);
  static constexpr size_t lse = dv + align128(sizeof(float) * BK * LDO);
  static constexpr size_t delta = lse + align128(sizeof(float) * BQ);
  static constexpr size_t bytes = delta + align128(sizeof(float) * BQ);
};

// The largest layouts fit sm_80's 163 KB of opt-in shared memory per block.
static_assert(FwdLayout<__half, 160>::bytes <= 166912 && FwdLayout<float, 160>::bytes <= 166912, "forward tiles exceed sm_80's shared memory");
static_assert(BwdLayout<__half, 160>::bytes <= 166912 && BwdLayout<__half, 64>::bytes <= 166912 && BwdLayout<float, 160>::bytes <= 166912,
              "backward tiles exceed sm_80's shared memory");

// The mask: element (b, h, q, k) at base[b sb + h sh + q sq + k sk], of dtype `dtype` (0: no mask).
struct MaskRef {
  const void* base = nullptr;
  int64_t sb = 0, sh = 0, sq = 0, sk = 0;
  int dtype = 0;  // 1 float32, 2 bfloat16, 3 float16, 4 float64
};

__device__ __forceinline__ float mask_at(const MaskRef& m, int64_t off) {
  switch (m.dtype) {
    case 1: return static_cast<const float*>(m.base)[off];
    case 2: return __bfloat162float(static_cast<const __nv_bfloat16*>(m.base)[off]);
    case 3: return __half2float(static_cast<const __half*>(m.base)[off]);
    default: return static_cast<float>(static_cast<const double*>(m.base)[off]);
  }
}

struct AttnArgs {
  const void *q, *k, *v;
  int64_t qs[3], ks[3], vs[3];  // element strides of the B, H and S dims (D is dense)
  MaskRef mask;
  int64_t B, H, Sq, Skv;
  int D;
  float scale;
  void* o;            // forward: (B, H, Sq, D), contiguous
  float* lse;         // (B, H, Sq): written by the forward, read by the backward
  const void* dout;   // backward: (B, H, Sq, D), contiguous
  const float* delta; // (B, H, Sq)
  float* dq;          // (B, H, Sq, D) float32, zeroed, accumulated atomically
  void *dk, *dv;      // (B, H, Skv, D), contiguous
};

// ---- tile products: C (M x N, float, row-major, ldc) = [C +] A (M x K) B (K x N) ----------------
// A element (i, k) at ACol ? A[k lda + i] : A[i lda + k]; B element (k, j) at BCol ? B[j ldb + k] : B[k ldb + j].
// M, N, K multiples of 16; all in shared memory; every thread of the block takes part (no sync inside).

template <typename T, bool ACol, bool BCol>
__device__ __forceinline__ void simt_mma(float* C, int ldc, const T* A, int lda, const T* B, int ldb, int M, int N, int K, bool accumulate) {
  const int tn = N / 2, tiles = (M / 2) * tn;
  for (int t = threadIdx.x; t < tiles; t += blockDim.x) {
    const int i = (t / tn) * 2, j = (t % tn) * 2;
    float c00 = 0.f, c01 = 0.f, c10 = 0.f, c11 = 0.f;
    if (accumulate) {
      c00 = C[i * ldc + j], c01 = C[i * ldc + j + 1], c10 = C[(i + 1) * ldc + j], c11 = C[(i + 1) * ldc + j + 1];
    }
    for (int k = 0; k < K; ++k) {
      const float a0 = load(ACol ? A[k * lda + i] : A[i * lda + k]), a1 = load(ACol ? A[k * lda + i + 1] : A[(i + 1) * lda + k]);
      const float b0 = load(BCol ? B[j * ldb + k] : B[k * ldb + j]), b1 = load(BCol ? B[(j + 1) * ldb + k] : B[k * ldb + j + 1]);
      c00 = fmaf(a0, b0, c00), c01 = fmaf(a0, b1, c01), c10 = fmaf(a1, b0, c10), c11 = fmaf(a1, b1, c11);
    }
    C[i * ldc + j] = c00, C[i * ldc + j + 1] = c01, C[(i + 1) * ldc + j] = c10, C[(i + 1) * ldc + j + 1] = c11;
  }
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
template <typename T, bool ACol, bool BCol>
__device__ __forceinline__ void wmma_mma(float* C, int ldc, const T* A, int lda, const T* B, int ldb, int M, int N, int K, bool accumulate) {
  namespace w = nvcuda::wmma;
  using LA = typename std::conditional<ACol, w::col_major, w::row_major>::type;
  using LB = typename std::conditional<BCol, w::col_major, w::row_major>::type;
  const int warp = threadIdx.x / 32, warps = blockDim.x / 32, tn = N / 16, tiles = (M / 16) * tn;
  for (int t = warp; t < tiles; t += warps) {
    const int i = (t / tn) * 16, j = (t % tn) * 16;
    w::fragment<w::accumulator, 16, 16, 16, float> c;
    if (accumulate) w::load_matrix_sync(c, C + i * ldc + j, ldc, w::mem_row_major);
    else w::fill_fragment(c, 0.f);
    for (int k = 0; k < K; k += 16) {
      w::fragment<w::matrix_a, 16, 16, 16, T, LA> a;
      w::fragment<w::matrix_b, 16, 16, 16, T, LB> b;
      w::load_matrix_sync(a, ACol ? A + k * lda + i : A + i * lda + k, lda);
      w::load_matrix_sync(b, BCol ? B + j * ldb + k : B + k * ldb + j, ldb);
      w::mma_sync(c, a, b, c);
    }
    w::store_matrix_sync(C + i * ldc + j, c, ldc, w::mem_row_major);
  }
}
#endif

template <typename T, bool ACol, bool BCol>
__device__ __forceinline__ void block_mma(float* C, int ldc, const T* A, int lda, const T* B, int ldb, int M, int N, int K, bool accumulate) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (kTensorCore<T>) {
    wmma_mma<T, ACol, BCol>(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
    return;
  }
#endif
  simt_mma<T, ACol, BCol>(C, ldc, A, lda, B, ldb, M, N, K, accumulate);
}

// dst (rows x Dp, ld) <- rows [r0, r0 + rows) of src (S x D, row stride rs, D dense); zeros beyond S and D.
template <typename T>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t rs, int64_t r0, int64_t S, int D, int rows, int Dp) {
  for (int idx = threadIdx.x; idx < rows * Dp; idx += blockDim.x) {
    const int r = idx / Dp, d = idx % Dp;
    const int64_t row = r0 + r;
    dst[r * ld + d] = (row < S && d < D) ? src[row * rs + d] : store<T>(0.f);
  }
}

template <int W>
__device__ __forceinline__ float group_max(float x) {  // over W adjacent lanes (W a power of two <= 32)
  for (int o = 1; o < W; o <<= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}
template <int W>
__device__ __forceinline__ float group_sum(float x) {
  for (int o = 1; o < W; o <<= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// ---- forward -----------------------------------------------------------------------------------
template <typename T, int Dp>
__global__ void __launch_bounds__(kBlock) flash_forward_kernel(AttnArgs a) {
  using L = FwdLayout<T, Dp>;
  constexpr int TPR = kBlock / L::BQ;  // threads per query row in the softmax
  extern __shared__ __align__(128) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem + L::q);
  T* Ks = reinterpret_cast<T*>(smem + L::k);
  T* Vs = reinterpret_cast<T*>(smem + L::v);
  float* Ss = reinterpret_cast<float*>(smem + L::s);
  T* Ps = reinterpret_cast<T*>(smem + L::p);
  float* Os = reinterpret_cast<float*>(smem + L::o);

  const int64_t qtiles = (a.Sq + L::BQ - 1) / L::BQ;
  const int64_t bh = blockIdx.x / qtiles, q0 = (blockIdx.x % qtiles) * L::BQ, b = bh / a.H, h = bh % a.H;
  const T* q = static_cast<const T*>(a.q) + b * a.qs[0] + h * a.qs[1];
  const T* k = static_cast<const T*>(a.k) + b * a.ks[0] + h * a.ks[1];
  const T* v = static_cast<const T*>(a.v) + b * a.vs[0] + h * a.vs[1];
  const int r = threadIdx.x / TPR, part = threadIdx.x % TPR;
  const int64_t row = q0 + r;
  const bool row_ok = row < a.Sq;
  const int64_t moff = a.mask.base ? b * a.mask.sb + h * a.mask.sh + row * a.mask.sq : 0;

  load_tile(Qs, L::LDT, q, a.qs[2], q0, a.Sq, a.D, L::BQ, Dp);
  for (int i = threadIdx.x; i < L::BQ * L::LDO; i += kBlock) Os[i] = 0.f;
  float m = -INFINITY, l = 0.f;  // this row's running max and sum (the TPR threads of a row hold the same)
  float* srow = Ss + r * L::LDS;
  T* prow = Ps + r * L::LDP;
  float* orow = Os + r * L::LDO;
  for (int64_t k0 = 0; k0 < a.Skv; k0 += L::BK) {
    __syncthreads();  // the previous tile's O += P V is done with K, V and P
    load_tile(Ks, L::LDT, k, a.ks[2], k0, a.Skv, a.D, L::BK, Dp);
    load_tile(Vs, L::LDT, v, a.vs[2], k0, a.Skv, a.D, L::BK, Dp);
    __syncthreads();
    // 1. S = Q K^T
    block_mma<T, false, true>(Ss, L::LDS, Qs, L::LDT, Ks, L::LDT, L::BQ, L::BK, Dp, false);
    __syncthreads();
    // 2. online softmax along the row: scale, mask, new max, P = exp(S - max), rescale l and O
    float mx = -INFINITY;
    for (int c = part; c < L::BK; c += TPR) {
      const int64_t key = k0 + c;
      float s = -INFINITY;
      if (row_ok && key < a.Skv) {
        s = srow[c] * a.scale;
        if (a.mask.base) s += mask_at(a.mask, moff + key * a.mask.sk);
      }
      srow[c] = s;
      mx = fmaxf(mx, s);
    }
    const float m_new = fmaxf(m, group_max<TPR>(mx));
    const float mu = m_new == -INFINITY ? 0.f : m_new;  // a row masked so far: P = 0, nothing to rescale
    const float corr = expf(m - mu);
    float sum = 0.f;
    for (int c = part; c < L::BK; c += TPR) {
      const float p = expf(srow[c] - mu);
      prow[c] = store<T>(p);
      sum += p;
    }
    l = l * corr + group_sum<TPR>(sum);
    m = m_new;
    for (int d = part; d < Dp; d += TPR) orow[d] *= corr;
    __syncthreads();
    // 3. O += P V
    block_mma<T, false, false>(Os, L::LDO, Ps, L::LDP, Vs, L::LDT, L::BQ, Dp, L::BK, true);
  }
  __syncthreads();
  // 4. O /= l; lse = m + log(l). A fully masked row (l = 0) gives NaN, as the plain softmax does.
  if (row_ok) {
    const float inv = l > 0.f ? 1.f / l : NAN;
    T* out = static_cast<T*>(a.o) + (bh * a.Sq + row) * a.D;
    for (int d = part; d < a.D; d += TPR) out[d] = store<T>(orow[d] * inv);
    if (part == 0) a.lse[bh * a.Sq + row] = m + logf(l);
  }
}

// ---- backward ----------------------------------------------------------------------------------
// Delta (rows) = rowsum(dO * O), one warp per row.
template <typename T>
__global__ void attention_delta_kernel(float* delta, const T* dout, const T* out, int64_t rows, int D) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  const int lane = threadIdx.x % 32;
  float s = 0.f;
  for (int d = lane; d < D; d += 32) s += load(dout[row * D + d]) * load(out[row * D + d]);
  s = group_sum<32>(s);
  if (lane == 0) delta[row] = s;
}

template <typename T, int Dp>
__global__ void __launch_bounds__(kBlock) flash_backward_kernel(AttnArgs a) {
  using L = BwdLayout<T, Dp>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* Ks = reinterpret_cast<T*>(smem + L::k);
  T* Vs = reinterpret_cast<T*>(smem + L::v);
  T* Qs = reinterpret_cast<T*>(smem + L::q);
  T* dOs = reinterpret_cast<T*>(smem + L::dout);
  float* Ss = reinterpret_cast<float*>(smem + L::u);
  float* dPs = Ss + L::BQ * L::LDS;
  float* dQs = Ss;  // reuses S and dP's space once P and dS are made
  T* Ps = reinterpret_cast<T*>(smem + L::p);
  T* dSs = reinterpret_cast<T*>(smem + L::ds);
  float* dKs = reinterpret_cast<float*>(smem + L::dk);
  float* dVs = reinterpret_cast<float*>(smem + L::dv);
  float* lse_s = reinterpret_cast<float*>(smem + L::lse);
  float* delta_s = reinterpret_cast<float*>(smem + L::delta);

  const int64_t ktiles = (a.Skv + L::BK - 1) / L::BK;
  const int64_t bh = blockIdx.x / ktiles, k0 = (blockIdx.x % ktiles) * L::BK, b = bh / a.H, h = bh % a.H;
  const T* q = static_cast<const T*>(a.q) + b * a.qs[0] + h * a.qs[1];
  const T* k = static_cast<const T*>(a.k) + b * a.ks[0] + h * a.ks[1];
  const T* v = static_cast<const T*>(a.v) + b * a.vs[0] + h * a.vs[1];
  const T* dout = static_cast<const T*>(a.dout) + bh * a.Sq * a.D;
  const int64_t mbase = a.mask.base ? b * a.mask.sb + h * a.mask.sh : 0;

  load_tile(Ks, L::LDT, k, a.ks[2], k0, a.Skv, a.D, L::BK, Dp);
  load_tile(Vs, L::LDT, v, a.vs[2], k0, a.Skv, a.D, L::BK, Dp);
  for (int i = threadIdx.x; i < L::BK * L::LDO; i += kBlock) dKs[i] = 0.f, dVs[i] = 0.f;
  for (int64_t q0 = 0; q0 < a.Sq; q0 += L::BQ) {
    __syncthreads();  // the previous query tile is done with Q, dO and dQ's tile
    load_tile(Qs, L::LDT, q, a.qs[2], q0, a.Sq, a.D, L::BQ, Dp);
    load_tile(dOs, L::LDT, dout, a.D, q0, a.Sq, a.D, L::BQ, Dp);
    for (int i = threadIdx.x; i < L::BQ; i += kBlock) {
      const int64_t row = q0 + i;
      lse_s[i] = row < a.Sq ? a.lse[bh * a.Sq + row] : -INFINITY;
      delta_s[i] = row < a.Sq ? a.delta[bh * a.Sq + row] : 0.f;
    }
    __syncthreads();
    // 1. S = Q K^T; dP = dO V^T
    block_mma<T, false, true>(Ss, L::LDS, Qs, L::LDT, Ks, L::LDT, L::BQ, L::BK, Dp, false);
    block_mma<T, false, true>(dPs, L::LDS, dOs, L::LDT, Vs, L::LDT, L::BQ, L::BK, Dp, false);
    __syncthreads();
    // 2. P = exp(scale S + mask - lse) (0 outside the sequences and on rows that saw no key); dS = P (dP - Delta) scale
    for (int idx = threadIdx.x; idx < L::BQ * L::BK; idx += kBlock) {
      const int i = idx / L::BK, c = idx % L::BK;
      const int64_t row = q0 + i, key = k0 + c;
      const float lse = lse_s[i];
      float p = 0.f;
      if (row < a.Sq && key < a.Skv && lse != -INFINITY) {
        float s = Ss[i * L::LDS + c] * a.scale;
        if (a.mask.base) s += mask_at(a.mask, mbase + row * a.mask.sq + key * a.mask.sk);
        p = expf(s - lse);
      }
      Ps[i * L::LDP + c] = store<T>(p);
      dSs[i * L::LDP + c] = store<T>(p * (dPs[i * L::LDS + c] - delta_s[i]) * a.scale);
    }
    __syncthreads();
    // 3. dV += P^T dO; dK += dS^T Q; dQ's tile = dS K
    block_mma<T, true, false>(dVs, L::LDO, Ps, L::LDP, dOs, L::LDT, L::BK, Dp, L::BQ, true);
    block_mma<T, true, false>(dKs, L::LDO, dSs, L::LDP, Qs, L::LDT, L::BK, Dp, L::BQ, true);
    block_mma<T, false, false>(dQs, L::LDO, dSs, L::LDP, Ks, L::LDT, L::BQ, Dp, L::BK, false);
    __syncthreads();
    // 4. dQ += dQ's tile, in float32
    for (int idx = threadIdx.x; idx < L::BQ * a.D; idx += kBlock) {
      const int i = idx / a.D, d = idx % a.D;
      const int64_t row = q0 + i;
      if (row < a.Sq) atomicAdd(a.dq + (bh * a.Sq + row) * a.D + d, dQs[i * L::LDO + d]);
    }
  }
  __syncthreads();
  T* dk = static_cast<T*>(a.dk) + bh * a.Skv * a.D;
  T* dv = static_cast<T*>(a.dv) + bh * a.Skv * a.D;
  for (int idx = threadIdx.x; idx < L::BK * a.D; idx += kBlock) {
    const int c = idx / a.D, d = idx % a.D;
    const int64_t key = k0 + c;
    if (key < a.Skv) {
      dk[key * a.D + d] = store<T>(dKs[c * L::LDO + d]);
      dv[key * a.D + d] = store<T>(dVs[c * L::LDO + d]);
    }
  }
}

template <typename T>
__global__ void float_to_kernel(T* out, const float* in, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = store<T>(in[i]);
}

// ---- host side ---------------------------------------------------------------------------------

// The current GPU's opt-in shared memory per block, asked once per device: 227 KB on H100/H200, 163 KB
// on A100, 99 KB on the sm_86/sm_89 cards (RTX 30xx/40xx), where some tiles here do not fit.
size_t shared_limit() {
  static std::mutex mu;
  static std::map<int, size_t> limits;
  int dev = 0;
  TR_CUDA_CHECK(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  auto it = limits.find(dev);
  if (it != limits.end()) return it->second;
  int optin = 0;
  TR_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  return limits[dev] = static_cast<size_t>(optin);
}

// Opts the kernel in to `bytes` of dynamic shared memory (above the default 48 KB), or says why not.
template <typename K>
void allow_shared(K kernel, size_t bytes, const char* what) {
  size_t optin = shared_limit();
  check(bytes <= optin, ErrorCode::NOT_SUPPORTED, what, " needs ", bytes, " bytes of shared memory per block but this GPU allows ", optin);
  if (bytes > 48 * 1024) TR_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

unsigned int grid_of(int64_t blocks, const char* what) {
  check(blocks < (int64_t(1) << 31), ErrorCode::NOT_SUPPORTED, what, " on cuda takes at most 2^31 - 1 tiles but received ", blocks);
  return static_cast<unsigned int>(blocks);
}

template <typename T, int Dp>
void launch_forward(const AttnArgs& a) {
  using L = FwdLayout<T, Dp>;
  int64_t blocks = a.B * a.H * ((a.Sq + L::BQ - 1) / L::BQ);
  if (blocks == 0) return;
  allow_shared(flash_forward_kernel<T, Dp>, L::bytes, "attention forward");
  flash_forward_kernel<T, Dp><<<grid_of(blocks, "attention"), kBlock, L::bytes, cuda_stream()>>>(a);
  TR_CUDA_LAUNCHED("flash_forward_kernel");
}

template <typename T, int Dp>
void launch_backward(const AttnArgs& a) {
  using L = BwdLayout<T, Dp>;
  int64_t blocks = a.B * a.H * ((a.Skv + L::BK - 1) / L::BK);
  if (blocks == 0) return;
  allow_shared(flash_backward_kernel<T, Dp>, L::bytes, "attention backward");
  flash_backward_kernel<T, Dp><<<grid_of(blocks, "attention"), kBlock, L::bytes, cuda_stream()>>>(a);
  TR_CUDA_LAUNCHED("flash_backward_kernel");
}

// Calls body with DP, the padded head dim: the smallest of 32, 48, 64, 80, 128, 160 that holds D.
#define TR_HEAD_DIM_SWITCH(D, DP, ...)                               \
  do {                                                               \
    if ((D) <= 32) { constexpr int DP = 32; __VA_ARGS__; }           \
    else if ((D) <= 48) { constexpr int DP = 48; __VA_ARGS__; }      \
    else if ((D) <= 64) { constexpr int DP = 64; __VA_ARGS__; }      \
    else if ((D) <= 80) { constexpr int DP = 80; __VA_ARGS__; }      \
    else if ((D) <= 128) { constexpr int DP = 128; __VA_ARGS__; }    \
    else { constexpr int DP = 160; __VA_ARGS__; }                    \
  } while (0)

#define TR_ATTENTION_DTYPE_SWITCH(dt, T, ...)                            \
  do {                                                                   \
    switch (dt) {                                                        \
      case DType::F32: { using T = float; __VA_ARGS__; break; }          \
      case DType::BF16: { using T = __nv_bfloat16; __VA_ARGS__; break; } \
      case DType::F16: { using T = __half; __VA_ARGS__; break; }         \
      default: fail(ErrorCode::NOT_SUPPORTED, "the fused attention on cuda takes float32, bfloat16 or float16, not ", dtype_name(dt)); \
    }                                                                    \
  } while (0)

int mask_code(DType d) {
  switch (d) {
    case DType::F32: return 1;
    case DType::BF16: return 2;
    case DType::F16: return 3;
    case DType::F64: return 4;
    default: fail(ErrorCode::DTYPE, "Expected a float mask for attention but received ", dtype_name(d));
  }
}

// The shared memory per block the larger of the forward's and the backward's kernels needs.
size_t shared_bytes(DType dt, int64_t D) {
  size_t bytes = 0;
  TR_ATTENTION_DTYPE_SWITCH(dt, T, { TR_HEAD_DIM_SWITCH(D, DP, bytes = std::max(FwdLayout<T, DP>::bytes, BwdLayout<T, DP>::bytes)); });
  return bytes;
}

AttnArgs make_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double scale) {
  check(cuda_attention_fits(q.dtype(), q.shape()[3]), ErrorCode::NOT_SUPPORTED, "the fused attention on cuda takes head dims up to ",
        kMaxHeadDim, " in float32, bfloat16 or float16 whose tiles fit the GPU's shared memory but received ", q.shape()[3], " in ",
        dtype_name(q.dtype()));
  for (const Tensor* t : {&q, &k, &v})
    check(t->device() == Device::CUDA && (t->strides()[3] == 1 || t->shape()[3] == 1), ErrorCode::INVALID_ARGUMENT,
          "Expected q, k, v on cuda with a dense last dim for the fused attention");
  AttnArgs a{};
  a.q = q.raw(), a.k = k.raw(), a.v = v.raw();
  for (int i = 0; i < 3; ++i) a.qs[i] = q.strides()[i], a.ks[i] = k.strides()[i], a.vs[i] = v.strides()[i];
  a.B = q.shape()[0], a.H = q.shape()[1], a.Sq = q.shape()[2], a.Skv = k.shape()[2];
  a.D = static_cast<int>(q.shape()[3]);
  a.scale = static_cast<float>(scale);
  if (mask.defined()) {
    check(mask.device() == Device::CUDA, ErrorCode::DEVICE, "Expected the attention mask on cuda with q, k, v but received one on ",
          device_name(mask.device()));
    StridedMap sm = strided_map(mask, {a.B, a.H, a.Sq, a.Skv});
    a.mask.base = mask.raw();
    a.mask.sb = sm.strides[0], a.mask.sh = sm.strides[1], a.mask.sq = sm.strides[2], a.mask.sk = sm.strides[3];
    a.mask.dtype = mask_code(mask.dtype());
  }
  return a;
}

}  // namespace

// Whether the fused kernels serve this dtype and head dim on the current GPU; attention() uses the composed
// form otherwise (float64, heads above 160, or tiles larger than the GPU's shared memory).
bool cuda_attention_fits(DType dtype, int64_t D) {
  if (!((dtype == DType::F32 || dtype == DType::BF16 || dtype == DType::F16) && D >= 1 && D <= kMaxHeadDim)) return false;
  return shared_bytes(dtype, D) <= shared_limit();
}

void cuda_attention_forward(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                            double scale) {
  AttnArgs a = make_args(q, k, v, mask, scale);
  check(out.is_contiguous() && out.dtype() == q.dtype() && lse.is_contiguous() && lse.dtype() == DType::F32, ErrorCode::INVALID_ARGUMENT,
        "Expected a contiguous output in q's dtype and a float32 log-sum-exp for the fused attention");
  a.o = out.raw();
  a.lse = lse.data<float>();
  TR_ATTENTION_DTYPE_SWITCH(q.dtype(), T, { TR_HEAD_DIM_SWITCH(a.D, DP, launch_forward<T, DP>(a)); });
}

void cuda_attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& out, const Tensor& lse, const Tensor& mask, double scale) {
  AttnArgs a = make_args(q, k, v, mask, scale);
  for (const Tensor* t : {&dq, &dk, &dv, &dout, &out})
    check(t->is_contiguous() && t->dtype() == q.dtype() && t->device() == Device::CUDA, ErrorCode::INVALID_ARGUMENT,
          "Expected contiguous cuda tensors in q's dtype for the fused attention's gradients");
  int64_t rows = a.B * a.H * a.Sq;
  Tensor delta = empty({rows}, DType::F32, Device::CUDA);
  bool f32 = q.dtype() == DType::F32;
  Tensor dq_acc = f32 ? dq : empty(dq.shape(), DType::F32, Device::CUDA);
  if (dq_acc.numel() > 0) TR_CUDA_CHECK(cudaMemsetAsync(dq_acc.raw(), 0, sizeof(float) * dq_acc.numel(), cuda_stream()));
  a.lse = lse.data<float>();
  a.dout = dout.raw();
  a.delta = delta.data<float>();
  a.dq = dq_acc.data<float>();
  a.dk = dk.raw(), a.dv = dv.raw();
  TR_ATTENTION_DTYPE_SWITCH(q.dtype(), T, {
    if (rows > 0) {
      constexpr int kRowsPerBlock = 8;
      attention_delta_kernel<T><<<grid_of((rows + kRowsPerBlock - 1) / kRowsPerBlock, "attention"), 32 * kRowsPerBlock, 0, cuda_stream()>>>(
          delta.data<float>(), static_cast<const T*>(a.dout), static_cast<const T*>(out.raw()), rows, a.D);
      TR_CUDA_LAUNCHED("attention_delta_kernel");
    }
    TR_HEAD_DIM_SWITCH(a.D, DP, launch_backward<T, DP>(a));
    if (!f32 && dq.numel() > 0) {
      float_to_kernel<T><<<grid_for(dq.numel()), kThreads, 0, cuda_stream()>>>(static_cast<T*>(dq.raw()), dq_acc.data<float>(), dq.numel());
      TR_CUDA_LAUNCHED("float_to_kernel");
    }
  });
}

}  // namespace tr
