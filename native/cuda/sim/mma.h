// mma.h (simulator): nvcuda::wmma with 16x16x16 tiles. A fragment holds its whole tile in every lane
// (the real one spreads it over the warp in an unspecified layout that kernels must not depend on), so
// mma_sync is each lane's own float32-accumulated product. Loads and stores are warp-collective: a
// barrier before and after, as the hardware's lanes execute them together. The rules of the real
// calls are checked: a 256-bit aligned pointer, ldm a multiple of 8 (16-bit types) or 4 (float).
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda_runtime.h"

namespace nvcuda {
namespace wmma {

struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

namespace detail {
inline float widen(float x) { return x; }
inline float widen(__nv_bfloat16 x) { return __bfloat162float(x); }
inline float widen(__half x) { return __half2float(x); }
template <typename T> inline T narrow(float x);
template <> inline float narrow<float>(float x) { return x; }
template <> inline __nv_bfloat16 narrow<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <> inline __half narrow<__half>(float x) { return __float2half_rn(x); }

template <typename T>
inline void check(const void* p, unsigned ldm, const char* call) {
  if (reinterpret_cast<uintptr_t>(p) % 32 != 0 || ldm % (sizeof(T) == 2 ? 8 : 4) != 0) trsim::fault(cudaErrorMisalignedAddress, call);
}
}  // namespace detail

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static constexpr int rows = std::is_same<Use, matrix_b>::value ? K : M;
  static constexpr int cols = std::is_same<Use, matrix_a>::value ? K : N;
  static constexpr int num_elements = rows * cols;
  T x[rows * cols];  // row-major tile, whole in every lane
};

template <typename Use, int M, int N, int K, typename T, typename Layout>
inline void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, T v) {
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = v;
}

// matrix_a / matrix_b: the layout is the fragment's.
template <typename Use, int M, int N, int K, typename T, typename Layout, typename S>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const S* p, unsigned ldm) {
  static_assert(!std::is_same<Use, accumulator>::value, "an accumulator load names its memory layout");
  using F = fragment<Use, M, N, K, T, Layout>;
  detail::check<S>(p, ldm, "wmma::load_matrix_sync: pointer not 256-bit aligned or ldm not a multiple of 16 bytes");
  trsim::syncwarp();
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c)
      f.x[r * F::cols + c] = std::is_same<Layout, col_major>::value ? p[c * ldm + r] : p[r * ldm + c];
  trsim::syncwarp();
}

template <int M, int N, int K, typename T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout) {
  detail::check<T>(p, ldm, "wmma::load_matrix_sync: pointer not 256-bit aligned or ldm not a multiple of 16 bytes");
  trsim::syncwarp();
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) f.x[r * N + c] = layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c];
  trsim::syncwarp();
}

template <int M, int N, int K, typename T>
inline void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
  detail::check<T>(p, ldm, "wmma::store_matrix_sync: pointer not 256-bit aligned or ldm not a multiple of 16 bytes");
  trsim::syncwarp();
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[r * N + c];
  trsim::syncwarp();
}

template <int M, int N, int K, typename TA, typename LA, typename LB, typename TC>
inline void mma_sync(fragment<accumulator, M, N, K, TC>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TA, LB>& b, const fragment<accumulator, M, N, K, TC>& c) {
  TC out[M * N];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = detail::widen(c.x[i * N + j]);
      for (int k = 0; k < K; ++k) acc += detail::widen(a.x[i * K + k]) * detail::widen(b.x[k * N + j]);
      out[i * N + j] = detail::narrow<TC>(acc);
    }
  for (int i = 0; i < M * N; ++i) d.x[i] = out[i];
}

}  // namespace wmma
}  // namespace nvcuda
