// trsim.h: the CUDA simulator's kernel side. native/cuda/*.cu compiled as C++ on the CPU (the sim
// build, TREEREWARD_CUDA_SIM=ON): every thread of a block is a fiber; __syncthreads, the warp shuffles
// and wmma's collective loads and stores are barriers between fibers, so a kernel runs exactly as its
// source says, thread by thread, and test/gpu checks it against the CPU path on a machine with no GPU.
//
// What it checks that a plain CPU port would not: launch limits (block size, grid dims, dynamic shared
// memory above 48 KB only after cudaFuncSetAttribute, the device's opt-in limit), a barrier some threads
// never reach (deadlock), wmma's pointer alignment and leading-dimension rules, shuffles reading a lane
// that has exited, device memory capacity (TRSIM_MEMORY_MB: out-of-memory paths run for real).
// Fibers run in a seeded shuffled order between barriers, and in half the passes each warp runs ahead to
// its next __syncthreads, so a missing barrier shows as wrong results rather than hiding behind one fixed
// order. What it cannot check: timing, lost updates of a missing atomic (a fiber's read-modify-write is
// never interleaved), races that every simulated order happens to serialize benignly, nvcc's own code
// generation, cuBLAS/cuDNN. TRSIM_DRY_RUN=1 counts memory without running the large kernels (trsim.cpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Static shared memory: one copy, seen by every fiber of the running block (grids run one at a time).
#define __shared__ static
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 900  // the device code paths of sm_90 (tensor cores through wmma)
#endif

struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
  dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
  dim3(uint3 u) : x(u.x), y(u.y), z(u.z) {}
};

// The running thread's coordinates. Plain globals (a kernel's read is one load): grids run one at a time
// in the process (trsim::run holds a lock), so they, and static shared memory, are never shared by two.
extern uint3 threadIdx;
extern uint3 blockIdx;
extern uint3 blockDim;
extern uint3 gridDim;

using std::isnan;
using std::isinf;
using std::isfinite;
template <typename T> inline T min(T a, T b) { return b < a ? b : a; }
template <typename T> inline T max(T a, T b) { return a < b ? b : a; }

// Correctly rounded double arithmetic (the sim files are compiled with -ffp-contract=off).
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }

namespace trsim {

// Block and warp barriers of the running block (the calling fiber's).
void syncthreads();
void syncwarp();
int lane_id();
// Exchange of up to 8 bytes between the lanes of a warp: every lane publishes `bits`, then reads lane
// `src`'s; `in_range` false (src outside the shuffle's width) returns the lane's own value, as CUDA does
// for shfl_down/up, and a source lane that has exited or does not exist is recorded as a fault.
uint64_t exchange(uint64_t bits, int src, bool in_range);
// The running block's dynamic shared memory.
void* dynamic_shared();
// A fault inside a kernel (misaligned wmma pointer, ...): recorded, reported by cudaGetLastError after
// the launch as the CUDA error `code` with `what` in its string.
void fault(int code, const char* what);

struct Config {
  dim3 grid, block;
  size_t shared;
  const char* name;
  Config(dim3 g, dim3 b, size_t s = 0, const void* /*stream*/ = nullptr, const char* n = "kernel")
      : grid(g), block(b), shared(s), name(n) {}
  template <typename... A>
  auto operator()(A&&... a) const;
};

template <typename... A>
struct Bound {
  Config cfg;
  std::tuple<A...> args;
};

template <typename... A>
auto Config::operator()(A&&... a) const {
  return Bound<std::decay_t<A>...>{*this, std::tuple<std::decay_t<A>...>(std::forward<A>(a)...)};
}

// Runs a grid: every block in turn, every thread of a block a fiber calling body().
void run(const Config& cfg, const void* kernel, const std::function<void()>& body);

template <typename T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type over 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T>
inline T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace trsim

// kernel<<<grid, block, shared, stream>>>(args) is rewritten by scripts/cuda-sim-rewrite.mjs into
//   ::trsim::Launcher(::trsim::Config(grid, block, shared, stream, "kernel"), [&](auto&&... a) { kernel(a...); })(args)
// (the call inside the lambda deduces the kernel's template arguments from the arguments, as a launch
// does), or, for a launch with dynamic shared memory, whose kernel must be fully named so the opt-in
// of cudaFuncSetAttribute can be checked against it,
//   kernel & ::trsim::Config(grid, block, shared, stream, "kernel")(args)
template <typename... P, typename... A>
void operator&(void (*kernel)(P...), trsim::Bound<A...>&& b) {
  static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong number of arguments");
  std::tuple<std::decay_t<P>...> params = std::apply([](auto&&... a) { return std::tuple<std::decay_t<P>...>(a...); }, b.args);
  trsim::run(b.cfg, reinterpret_cast<const void*>(kernel), [&] { std::apply(kernel, params); });
}

namespace trsim {
template <typename F>
struct Launcher {
  Config cfg;
  F call;
  Launcher(Config c, F f) : cfg(c), call(f) {}
  template <typename... A>
  void operator()(A&&... a) {
    std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);  // evaluated once, as a launch's arguments
    run(cfg, nullptr, [&] { std::apply(call, args); });
  }
};
}  // namespace trsim

inline void __syncthreads() { trsim::syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { trsim::syncwarp(); }

template <typename T>
inline T __shfl_sync(unsigned, T v, int src, int width = 32) {
  int lane = trsim::lane_id();
  int s = (lane & ~(width - 1)) + (src & (width - 1));
  return trsim::from_bits<T>(trsim::exchange(trsim::to_bits(v), s, true));
}
template <typename T>
inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  int lane = trsim::lane_id();
  int s = lane + static_cast<int>(delta);
  bool in = (s & ~(width - 1)) == (lane & ~(width - 1));
  return trsim::from_bits<T>(trsim::exchange(trsim::to_bits(v), s, in));
}
template <typename T>
inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = 32) {
  int lane = trsim::lane_id();
  int s = lane - static_cast<int>(delta);
  bool in = s >= 0 && (s & ~(width - 1)) == (lane & ~(width - 1));
  return trsim::from_bits<T>(trsim::exchange(trsim::to_bits(v), s, in));
}
template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) {
  int lane = trsim::lane_id();
  int s = lane ^ mask;
  bool in = (s & ~(width - 1)) == (lane & ~(width - 1));
  return trsim::from_bits<T>(trsim::exchange(trsim::to_bits(v), s, in));
}

// Atomics: fibers switch only at barriers and grids run one at a time, so a plain read-modify-write is
// atomic here.
template <typename T>
inline T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
template <typename T>
inline T atomicMin(T* p, T v) {
  T old = *p;
  if (v < old) *p = v;
  return old;
}
template <typename T>
inline T atomicMax(T* p, T v) {
  T old = *p;
  if (old < v) *p = v;
  return old;
}
