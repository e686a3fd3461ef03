// conv2d.cu: conv2d forward and backward on the GPU, the CPU op's geometry (native/cpu/conv2d.cpp):
// x (N, Cin, H, W), weight (Cout, Cin/G, kh, kw), bias (Cout), any stride, zero padding, G groups.
//  - with cuDNN (TR_HAVE_CUDNN): cudnnConvolutionForward / BackwardData / BackwardFilter, the algorithm
//    from cuDNN's heuristics (cached per shape), the workspace from the caching allocator; float32 in
//    FMA math (no TF32: the CPU's precision), bfloat16/float16 on tensor cores with float32 accumulation
//    (with a bias: widened to float32, so conv + bias is rounded once, as on the CPU; see cudnn_forward).
//    Where cuDNN cannot start, refuses a configuration (NOT_SUPPORTED, BAD_PARAM before running) or has no
//    algorithm for a shape, the implicit GEMM below serves instead; other cuDNN failures throw CUDA_ERROR.
//  - otherwise: implicit GEMM, one tiled float32-accumulating kernel for the three products, whose
//    operands are gathered from the images on the fly (no column matrix in memory):
//      forward      out_g (Cout/G, N*Ho*Wo) = W_g (Cout/G, K) @ col_g (K, N*Ho*Wo),  K = Cin/G * kh * kw
//      input grad   dx_g (Cin/G, N*H*W) = W_g^T (Cin/G, Cout/G*kh*kw) @ dcol (.., N*H*W), dcol gathered from dout
//      weight grad  dW_g (Cout/G, K) = dout_g (Cout/G, N*Ho*Wo) @ col_g^T, split over N*Ho*Wo into float32
//                   partial sums that one more kernel adds in a fixed order (deterministic)
// Bias: the forward adds it; its gradient is a per-channel sum of dout (one block per channel).
// Accumulation rule: every gradient here is fresh (=).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda/cuda_kernels_b.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_types.cuh"

#ifdef TR_HAVE_CUDNN
#include <cudnn.h>
#endif

namespace tr {

namespace {

struct Geom {
  int64_t N, Cin, H, W, Cout, kh, kw, sh, sw, ph, pw, G, Ho, Wo;
  __host__ __device__ int64_t cig() const { return Cin / G; }
  __host__ __device__ int64_t cog() const { return Cout / G; }
  __host__ __device__ int64_t taps() const { return kh * kw; }
};

Geom geom_of(const CudaConvShape& s) { return {s.N, s.Cin, s.H, s.W, s.Cout, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.G, s.Ho, s.Wo}; }

// ---- implicit GEMM ----------------------------------------------------------------------------
// C (M x N) = A (M x K) B (K x N), accumulated in P::Acc (float32; float64 for float64), per group
// (blockIdx.z % G) and reduction split (blockIdx.z / G, over [split * kchunk, ...)); the problem P
// gathers A and B and stores C. 64 x 64 tiles, 16 deep, 256
// threads of 4 x 4 outputs each (rows ty + 16 i, columns tx + 16 j: conflict-free shared reads).
constexpr int kTM = 64, kTN = 64, kTK = 16, kGemmThreads = 256;

template <typename P>
__global__ void __launch_bounds__(kGemmThreads) implicit_gemm_kernel(P p, int64_t kchunk) {
  using A = typename P::Acc;
  __shared__ A As[kTK][kTM + 4];
  __shared__ A Bs[kTK][kTN + 4];
  const int g = static_cast<int>(blockIdx.z % p.g.G), split = static_cast<int>(blockIdx.z / p.g.G);
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kTM, n0 = static_cast<int64_t>(blockIdx.x) * kTN;
  const int64_t kbeg = split * kchunk, kend = min(p.K, kbeg + kchunk);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  A acc[4][4] = {};
  for (int64_t k0 = kbeg; k0 < kend; k0 += kTK) {
    for (int e = threadIdx.x; e < kTM * kTK; e += kGemmThreads) {  // A tile: 16 threads along k
      const int am = e / kTK, ak = e % kTK;
      const int64_t m = m0 + am, k = k0 + ak;
      As[ak][am] = (m < p.M && k < kend) ? p.a(m, k, g) : A(0);
    }
    for (int e = threadIdx.x; e < kTK * kTN; e += kGemmThreads) {  // B tile: 64 threads along n
      const int bk = e / kTN, bn = e % kTN;
      const int64_t k = k0 + bk, n = n0 + bn;
      Bs[bk][bn] = (n < p.N && k < kend) ? p.b(k, n, g) : A(0);
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTK; ++k) {
      A a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[k][ty + 16 * i], b[i] = Bs[k][tx + 16 * i];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int64_t m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < p.M && n < p.N) p.store(m, n, g, split, acc[i][j]);
    }
}

// forward: M = Cout/G, N = N*Ho*Wo, K = Cin/G*kh*kw
template <typename T>
struct ForwardProblem {
  using Acc = acc_t<T>;
  Geom g;
  int64_t M, N, K;
  const T *x, *w, *bias;
  T* out;
  __device__ Acc a(int64_t m, int64_t k, int grp) const { return load(w[(grp * g.cog() + m) * K + k]); }
  __device__ Acc b(int64_t k, int64_t n, int grp) const {
    const int64_t ci = k / g.taps(), t = k % g.taps(), ki = t / g.kw, kj = t % g.kw;
    const int64_t P = g.Ho * g.Wo, img = n / P, pix = n % P, oh = pix / g.Wo, ow = pix % g.Wo;
    const int64_t ih = oh * g.sh - g.ph + ki, iw = ow * g.sw - g.pw + kj;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return Acc(0);
    return load(x[((img * g.Cin + grp * g.cig() + ci) * g.H + ih) * g.W + iw]);
  }
  __device__ void store(int64_t m, int64_t n, int grp, int, Acc v) const {
    const int64_t co = grp * g.cog() + m, P = g.Ho * g.Wo, img = n / P, pix = n % P;
    out[(img * g.Cout + co) * P + pix] = ::tr::store<T>(v + (bias ? Acc(load(bias[co])) : Acc(0)));
  }
};

// input gradient: M = Cin/G, N = N*H*W, K = Cout/G*kh*kw; dx(ci, ih, iw) = sum w(co, ci, ki, kj) dout(co, oh, ow)
// over the taps whose window (oh, ow) = ((ih + ph - ki) / sh, (iw + pw - kj) / sw) lands exactly in the output.
template <typename T>
struct InputGradProblem {
  using Acc = acc_t<T>;
  Geom g;
  int64_t M, N, K;
  const T *dout, *w;
  T* dx;
  __device__ Acc a(int64_t m, int64_t k, int grp) const {
    const int64_t co = k / g.taps(), t = k % g.taps();
    return load(w[((grp * g.cog() + co) * g.cig() + m) * g.taps() + t]);
  }
  __device__ Acc b(int64_t k, int64_t n, int grp) const {
    const int64_t co = k / g.taps(), t = k % g.taps(), ki = t / g.kw, kj = t % g.kw;
    const int64_t P = g.H * g.W, img = n / P, pix = n % P, ih = pix / g.W, iw = pix % g.W;
    const int64_t th = ih + g.ph - ki, tw = iw + g.pw - kj;
    if (th < 0 || tw < 0 || th % g.sh || tw % g.sw) return Acc(0);
    const int64_t oh = th / g.sh, ow = tw / g.sw;
    if (oh >= g.Ho || ow >= g.Wo) return Acc(0);
    return load(dout[((img * g.Cout + grp * g.cog() + co) * g.Ho + oh) * g.Wo + ow]);
  }
  __device__ void store(int64_t m, int64_t n, int grp, int, Acc v) const {
    const int64_t P = g.H * g.W, img = n / P, pix = n % P;
    dx[(img * g.Cin + grp * g.cig() + m) * P + pix] = ::tr::store<T>(v);
  }
};

// weight gradient: M = Cout/G, N = Cin/G*kh*kw, K (the reduction) = N*Ho*Wo; partial sums per split, float32.
template <typename T>
struct WeightGradProblem {
  using Acc = acc_t<T>;
  Geom g;
  int64_t M, N, K;
  const T *dout, *x;
  Acc* partial;  // (splits, Cout, Cin/G*kh*kw)
  __device__ Acc a(int64_t m, int64_t r, int grp) const {
    const int64_t P = g.Ho * g.Wo, img = r / P, pix = r % P;
    return load(dout[(img * g.Cout + grp * g.cog() + m) * P + pix]);
  }
  __device__ Acc b(int64_t r, int64_t n, int grp) const {
    const int64_t ci = n / g.taps(), t = n % g.taps(), ki = t / g.kw, kj = t % g.kw;
    const int64_t P = g.Ho * g.Wo, img = r / P, pix = r % P, oh = pix / g.Wo, ow = pix % g.Wo;
    const int64_t ih = oh * g.sh - g.ph + ki, iw = ow * g.sw - g.pw + kj;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return Acc(0);
    return load(x[((img * g.Cin + grp * g.cig() + ci) * g.H + ih) * g.W + iw]);
  }
  __device__ void store(int64_t m, int64_t n, int grp, int split, Acc v) const {
    partial[(static_cast<int64_t>(split) * g.Cout + grp * g.cog() + m) * N + n] = v;
  }
};

// How a reduction of length K is split in about `want` parts: each a multiple of kTK deep.
struct Split {
  int64_t kchunk, count;
};
Split split_of(int64_t K, int64_t want) {
  int64_t kchunk = std::max<int64_t>(kTK, ((K + want - 1) / want + kTK - 1) / kTK * kTK);
  return {kchunk, std::max<int64_t>(1, (K + kchunk - 1) / kchunk)};
}

template <typename P>
void run_gemm(const P& p, Split sp, const char* name) {
  if (p.M == 0 || p.N == 0) return;
  int64_t kchunk = sp.kchunk, splits = sp.count;
  int64_t gx = (p.N + kTN - 1) / kTN, gy = (p.M + kTM - 1) / kTM, gz = p.g.G * splits;
  check(gx < (int64_t(1) << 31) && gy <= 65535 && gz <= 65535, ErrorCode::NOT_SUPPORTED, "conv2d on cuda: the problem is too large for one grid (",
        gx, " x ", gy, " x ", gz, " tiles)");
  implicit_gemm_kernel<P><<<dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(gz)), kGemmThreads, 0,
                            cuda_stream()>>>(p, kchunk);
  TR_CUDA_LAUNCHED(name);
}

// dw (n) = sum over splits of partial (splits, n), in split order.
template <typename T>
__global__ void sum_splits_kernel(T* dw, const acc_t<T>* partial, int64_t n, int64_t splits) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    acc_t<T> s = 0;
    for (int64_t j = 0; j < splits; ++j) s += partial[j * n + i];
    dw[i] = store<T>(s);
  }
}

// dbias (Cout) = sum of dout (N, Cout, P) over n and P: one block per channel, float32 (float64 for double).
template <typename T>
__global__ void bias_grad_kernel(T* dbias, const T* dout, int64_t N, int64_t C, int64_t P) {
  using A = acc_t<T>;
  __shared__ A part[kThreads];
  const int64_t c = blockIdx.x;
  A s = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = threadIdx.x; p < P; p += blockDim.x) s += load(dout[(n * C + c) * P + p]);
  part[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) dbias[c] = store<T>(part[0]);
}

template <typename T>
__global__ void add_bias_kernel(T* out, const T* bias, int64_t C, int64_t P, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = store<T>(load(out[i]) + load(bias[(i / P) % C]));
}

template <typename T>
void bias_grad(const Tensor& db, const Tensor& dout, const Geom& g) {
  if (g.Cout == 0) return;
  bias_grad_kernel<T><<<static_cast<unsigned>(g.Cout), kThreads, 0, cuda_stream()>>>(ptr<T>(db), ptr<const T>(dout), g.N, g.Cout, g.Ho * g.Wo);
  TR_CUDA_LAUNCHED("conv2d bias_grad_kernel");
}

// The implicit-GEMM path (float32 accumulation, float64 for float64).
template <typename T>
void gemm_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Geom& g) {
  ForwardProblem<T> p{g, g.cog(), g.N * g.Ho * g.Wo, g.cig() * g.taps(), ptr<const T>(x), ptr<const T>(w), ptr<const T>(bias), ptr<T>(out)};
  run_gemm(p, split_of(p.K, 1), "conv2d forward (implicit gemm)");
}

template <typename T>
void gemm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w, const Geom& g) {
  if (dx.defined()) {
    InputGradProblem<T> p{g, g.cig(), g.N * g.H * g.W, g.cog() * g.taps(), ptr<const T>(dout), ptr<const T>(w), ptr<T>(dx)};
    run_gemm(p, split_of(p.K, 1), "conv2d input gradient (implicit gemm)");
  }
  if (dw.defined()) {
    int64_t K = g.cig() * g.taps(), R = g.N * g.Ho * g.Wo, n = g.Cout * K;
    // enough splits to fill the GPU when Cout x K is small, each at least 2048 deep
    int64_t tiles = g.G * ((g.cog() + kTM - 1) / kTM) * ((K + kTN - 1) / kTN);
    Split sp = split_of(R, std::clamp<int64_t>(std::min<int64_t>(R / 2048, (512 + tiles - 1) / tiles), 1, std::max<int64_t>(1, 65535 / g.G)));
    if (R == 0 || n == 0) {
      if (n) TR_CUDA_CHECK(cudaMemsetAsync(dw.raw(), 0, n * sizeof(T), cuda_stream()));
    } else {
      Tensor partial = empty({sp.count, n}, std::is_same<T, double>::value ? DType::F64 : DType::F32, Device::CUDA);
      WeightGradProblem<T> p{g, g.cog(), K, R, ptr<const T>(dout), ptr<const T>(x), ptr<acc_t<T>>(partial)};
      run_gemm(p, sp, "conv2d weight gradient (implicit gemm)");
      sum_splits_kernel<T><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<T>(dw), ptr<const acc_t<T>>(partial), n, sp.count);
      TR_CUDA_LAUNCHED("conv2d sum_splits_kernel");
    }
  }
  if (db.defined()) bias_grad<T>(db, dout, g);
}

#ifdef TR_HAVE_CUDNN
// ---- cuDNN ---------------------------------------------------------------------------------------
#define TR_CUDNN_CHECK(expr)                                                                              \
  do {                                                                                                    \
    cudnnStatus_t tr_st_ = (expr);                                                                        \
    if (tr_st_ != CUDNN_STATUS_SUCCESS) ::tr::fail(::tr::ErrorCode::CUDA_ERROR, #expr, " failed: ", cudnnGetErrorString(tr_st_)); \
  } while (0)

// Whether a failed status means that cuDNN cannot do this convolution, so that the implicit GEMM serves it:
// NOT_SUPPORTED (no kernel for this shape, dtype, layout or GPU) from any call; BAD_PARAM (parameters its
// descriptors or heuristics refuse) from the calls before anything runs; from the convolution calls also a
// pointer too misaligned for the chosen kernel (a view into a larger storage). Nothing has been launched
// when these come back. Every other status (EXECUTION_FAILED, INTERNAL_ERROR, a failed allocation, ...) is
// a real failure: CUDA_ERROR. cuDNN 9 statuses are a category (a multiple of 1000) plus a detail code.
bool cudnn_cannot(cudnnStatus_t s, bool running) {
#ifdef CUDNN_STATUS_CATEGORY
  const int category = CUDNN_STATUS_CATEGORY(static_cast<int>(s));
#else
  const int category = static_cast<int>(s);
#endif
  if (category == CUDNN_STATUS_NOT_SUPPORTED) return true;
#if CUDNN_MAJOR >= 9
  if (s == CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER) return true;
#endif
  return !running && category == CUDNN_STATUS_BAD_PARAM;
}

// One stderr line, the first time in the process that cuDNN turns a convolution down (later ones fall back quietly).
void note_fallback(const char* why, const char* detail) {
  static std::once_flag once;
  std::call_once(once, [&] {
    std::fprintf(stderr, "treereward: conv2d on cuda: cuDNN cannot run a convolution (%.*s: %s); the implicit GEMM kernel serves it\n",
                 static_cast<int>(std::strcspn(why, "(")), why, detail);
  });
}

// A cuDNN call in a function that returns `cannot` where cuDNN cannot do the convolution (see cudnn_cannot;
// `running`: the call is a convolution itself); any other failure throws CUDA_ERROR naming the call and status.
#define TR_CUDNN_OR(expr, running, cannot)                                                                \
  do {                                                                                                    \
    cudnnStatus_t tr_st_ = (expr);                                                                        \
    if (tr_st_ != CUDNN_STATUS_SUCCESS) {                                                                 \
      if (!cudnn_cannot(tr_st_, running))                                                                 \
        ::tr::fail(::tr::ErrorCode::CUDA_ERROR, #expr, " failed: ", cudnnGetErrorString(tr_st_));         \
      note_fallback(#expr, cudnnGetErrorString(tr_st_));                                                  \
      return cannot;                                                                                      \
    }                                                                                                     \
  } while (0)

// This thread's handle on the current stream; null when cuDNN cannot start here (a library that does not
// match the driver, say): then the implicit GEMM serves.
cudnnHandle_t cudnn_handle() {
  thread_local cudnnHandle_t h = nullptr;
  thread_local bool failed = false;
  if (!h && !failed && cudnnCreate(&h) != CUDNN_STATUS_SUCCESS) failed = true, h = nullptr;
  if (h) TR_CUDNN_CHECK(cudnnSetStream(h, cuda_stream()));
  return h;
}

cudnnDataType_t cudnn_type(DType d) {
  switch (d) {
    case DType::F32: return CUDNN_DATA_FLOAT;
    case DType::F64: return CUDNN_DATA_DOUBLE;
    case DType::BF16: return CUDNN_DATA_BFLOAT16;
    case DType::F16: return CUDNN_DATA_HALF;
    default: fail(ErrorCode::NOT_SUPPORTED, "conv2d on cuda does not support ", dtype_name(d));
  }
}

// One cuDNN descriptor, destroyed with its holder: every way out of the code that made it (a refusal, a
// throw from a later set-call) releases it.
void destroy_desc(cudnnTensorDescriptor_t d) { cudnnDestroyTensorDescriptor(d); }
void destroy_desc(cudnnFilterDescriptor_t d) { cudnnDestroyFilterDescriptor(d); }
void destroy_desc(cudnnConvolutionDescriptor_t d) { cudnnDestroyConvolutionDescriptor(d); }
template <typename D>
struct CudnnDesc {
  D d = nullptr;
  CudnnDesc() = default;
  CudnnDesc(const CudnnDesc&) = delete;
  CudnnDesc& operator=(const CudnnDesc&) = delete;
  ~CudnnDesc() {
    if (d) destroy_desc(d);
  }
  operator D() const { return d; }
};

// The descriptors of one convolution. `widened`: bf16/f16 operands widened to float32 (cudnn_forward).
struct Descs {
  CudnnDesc<cudnnTensorDescriptor_t> x, y;
  CudnnDesc<cudnnFilterDescriptor_t> w;
  CudnnDesc<cudnnConvolutionDescriptor_t> conv;
  // False where cuDNN cannot describe this convolution (the implicit GEMM serves it).
  bool init(const Geom& g, DType dt, bool widened) {
    for (int64_t v : {g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.G})
      if (v > 0x7fffffff) {  // cuDNN's dimensions are int; the implicit GEMM indexes in int64
        note_fallback("a dimension", "over 2^31 - 1");
        return false;
      }
    auto i = [](int64_t v) { return static_cast<int>(v); };
    cudnnDataType_t t = widened ? CUDNN_DATA_FLOAT : cudnn_type(dt);
    TR_CUDNN_OR(cudnnCreateTensorDescriptor(&x.d), false, false);
    TR_CUDNN_OR(cudnnCreateTensorDescriptor(&y.d), false, false);
    TR_CUDNN_OR(cudnnCreateFilterDescriptor(&w.d), false, false);
    TR_CUDNN_OR(cudnnCreateConvolutionDescriptor(&conv.d), false, false);
    TR_CUDNN_OR(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, t, i(g.N), i(g.Cin), i(g.H), i(g.W)), false, false);
    TR_CUDNN_OR(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, t, i(g.N), i(g.Cout), i(g.Ho), i(g.Wo)), false, false);
    TR_CUDNN_OR(cudnnSetFilter4dDescriptor(w, t, CUDNN_TENSOR_NCHW, i(g.Cout), i(g.cig()), i(g.kh), i(g.kw)), false, false);
    TR_CUDNN_OR(cudnnSetConvolution2dDescriptor(conv, i(g.ph), i(g.pw), i(g.sh), i(g.sw), 1, 1, CUDNN_CROSS_CORRELATION,
                                                dt == DType::F64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT),
                false, false);
    TR_CUDNN_OR(cudnnSetConvolutionGroupCount(conv, i(g.G)), false, false);
    // float32 and float64: FMA only (TF32 would lose the CPU path's precision); 16-bit: tensor cores. Widened
    // 16-bit operands may take TF32 tensor cores: a bf16 or f16 value is exact in TF32, so the products are
    // exact and accumulate in float32, the 16-bit path's arithmetic.
    cudnnMathType_t math = widened ? CUDNN_DEFAULT_MATH : dt == DType::F32 || dt == DType::F64 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    TR_CUDNN_OR(cudnnSetConvolutionMathType(conv, math), false, false);
    return true;
  }
};

// Algorithms chosen by cuDNN's heuristics, per (direction, shape, dtype), cached; -1 where cuDNN has none
// (or refused the query), so the implicit GEMM serves that shape without asking again.
using AlgoKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;
std::mutex algo_mutex;
std::map<AlgoKey, int> algo_cache;

AlgoKey key_of(int dir, const Geom& g, DType dt) {
  return {dir, g.N, g.Cin, g.H, g.W, g.Cout, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.G, static_cast<int>(dt)};
}

// The first algorithm of cuDNN's ranked list that it reports usable, deterministic (no atomics: a resumed
// training run must redo a step exactly, as the implicit GEMM does) and within kMaxWorkspace of scratch
// memory; -1 when none is (the implicit GEMM serves).
constexpr size_t kMaxWorkspace = size_t{1} << 30;
template <typename Perf>
int pick(const Perf* perf, int n) {
  for (int i = 0; i < n; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC && perf[i].memory <= kMaxWorkspace)
      return static_cast<int>(perf[i].algo);
  note_fallback("the algorithm query", "no deterministic algorithm within 1 GiB of workspace");
  return -1;
}

template <typename F>
int cached_algo(int dir, const Geom& g, DType dt, F find) {
  AlgoKey key = key_of(dir, g, dt);
  {
    std::lock_guard<std::mutex> lock(algo_mutex);
    auto it = algo_cache.find(key);
    if (it != algo_cache.end()) return it->second;
  }
  int algo = find();
  std::lock_guard<std::mutex> lock(algo_mutex);
  algo_cache[key] = algo;
  return algo;
}

// A workspace from the caching allocator (kept alive by the returned tensor until the call returns).
Tensor workspace(size_t bytes) { return empty({static_cast<int64_t>((bytes + 3) / 4) + 1}, DType::F32, Device::CUDA); }

Tensor widen(const Tensor& t) {
  Tensor f = empty(t.shape(), DType::F32, Device::CUDA);
  cuda_copy(f, t);
  return f;
}

// out (bf16/f16) = acc (float32) + bias, rounded once.
template <typename T>
__global__ void add_bias_round_kernel(T* out, const float* acc, const T* bias, int64_t C, int64_t P, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = store<T>(static_cast<acc_t<T>>(acc[i]) + load(bias[(i / P) % C]));
}

// out = conv(x, w) + bias; false (nothing written) where cuDNN cannot run this convolution.
// bf16/f16 with a bias: the legacy API writes a 16-bit output for 16-bit operands, and adding the bias to
// that rounds twice (the sum can be 1 ulp off the CPU path's, which rounds conv + bias once; a beta = 1 blend
// into a bias-filled output is not documented to round once either). So those operands are widened to
// float32 scratch (exact), cuDNN convolves them into a float32 output, and one kernel adds the bias and
// rounds once. Without a bias the 16-bit output is the float32 sum rounded once already.
bool cudnn_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias, const Geom& g, DType dt) {
  cudnnHandle_t h = cudnn_handle();
  if (!h) return false;
  const bool widened = bias.defined() && (dt == DType::BF16 || dt == DType::F16);
  Descs d;
  if (!d.init(g, dt, widened)) return false;
  int found = cached_algo(widened ? 3 : 0, g, dt, [&] {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    TR_CUDNN_OR(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf), false, -1);
    return pick(perf, n);
  });
  if (found < 0) return false;
  auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(found);
  size_t bytes = 0;
  TR_CUDNN_OR(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, algo, &bytes), false, false);
  Tensor ws = workspace(bytes);
  Tensor xs = widened ? widen(x) : x, wts = widened ? widen(w) : w;
  Tensor y = widened ? empty(out.shape(), DType::F32, Device::CUDA) : out;
  double one64 = 1, zero64 = 0;
  float one = 1, zero = 0;
  const void* alpha = dt == DType::F64 ? static_cast<const void*>(&one64) : &one;
  const void* beta = dt == DType::F64 ? static_cast<const void*>(&zero64) : &zero;
  TR_CUDNN_OR(cudnnConvolutionForward(h, alpha, d.x, xs.raw(), d.w, wts.raw(), d.conv, algo, ws.raw(), bytes, beta, d.y, y.raw()), true, false);
  if (bias.defined())
    TR_CUDA_FLOAT_DISPATCH(dt, "conv2d", T, {
      if (widened)
        add_bias_round_kernel<T><<<grid_for(out.numel()), kThreads, 0, cuda_stream()>>>(ptr<T>(out), ptr<const float>(y), ptr<const T>(bias),
                                                                                        g.Cout, g.Ho * g.Wo, out.numel());
      else  // float32 / float64: the output holds the unrounded sum; one rounding adding the bias
        add_bias_kernel<T><<<grid_for(out.numel()), kThreads, 0, cuda_stream()>>>(ptr<T>(out), ptr<const T>(bias), g.Cout, g.Ho * g.Wo, out.numel());
      TR_CUDA_LAUNCHED("conv2d bias");
    });
  return true;
}

// dx = the input gradient; false (nothing written) where cuDNN cannot compute it.
bool cudnn_backward_data(cudnnHandle_t h, const Descs& d, const Tensor& dx, const Tensor& dout, const Tensor& w, const Geom& g, DType dt,
                         const void* alpha, const void* beta) {
  int found = cached_algo(1, g, dt, [&] {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    TR_CUDNN_OR(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf), false,
                -1);
    return pick(perf, n);
  });
  if (found < 0) return false;
  auto algo = static_cast<cudnnConvolutionBwdDataAlgo_t>(found);
  size_t bytes = 0;
  TR_CUDNN_OR(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, algo, &bytes), false, false);
  Tensor ws = workspace(bytes);
  TR_CUDNN_OR(cudnnConvolutionBackwardData(h, alpha, d.w, w.raw(), d.y, dout.raw(), d.conv, algo, ws.raw(), bytes, beta, d.x, dx.raw()), true,
              false);
  return true;
}

// dw = the weight gradient; false (nothing written) where cuDNN cannot compute it.
bool cudnn_backward_filter(cudnnHandle_t h, const Descs& d, const Tensor& dw, const Tensor& dout, const Tensor& x, const Geom& g, DType dt,
                           const void* alpha, const void* beta) {
  int found = cached_algo(2, g, dt, [&] {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    TR_CUDNN_OR(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf),
                false, -1);
    return pick(perf, n);
  });
  if (found < 0) return false;
  auto algo = static_cast<cudnnConvolutionBwdFilterAlgo_t>(found);
  size_t bytes = 0;
  TR_CUDNN_OR(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, algo, &bytes), false, false);
  Tensor ws = workspace(bytes);
  TR_CUDNN_OR(cudnnConvolutionBackwardFilter(h, alpha, d.x, x.raw(), d.y, dout.raw(), d.conv, algo, ws.raw(), bytes, beta, d.w, dw.raw()), true,
              false);
  return true;
}

// Computes the gradients it can (dx and dw, where asked) and returns those it could not, for the implicit GEMM.
std::pair<Tensor, Tensor> cudnn_backward(const Tensor& dx, const Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w,
                                         const Geom& g, DType dt) {
  cudnnHandle_t h = cudnn_handle();
  if (!h) return {dx, dw};
  Descs d;
  if (!d.init(g, dt, false)) return {dx, dw};
  double one64 = 1, zero64 = 0;
  float one = 1, zero = 0;
  const void* alpha = dt == DType::F64 ? static_cast<const void*>(&one64) : &one;
  const void* beta = dt == DType::F64 ? static_cast<const void*>(&zero64) : &zero;
  Tensor left_dx = dx.defined() && !cudnn_backward_data(h, d, dx, dout, w, g, dt, alpha, beta) ? dx : Tensor();
  Tensor left_dw = dw.defined() && !cudnn_backward_filter(h, d, dw, dout, x, g, dt, alpha, beta) ? dw : Tensor();
  return {left_dx, left_dw};
}
#endif

void check_operands(std::initializer_list<const Tensor*> ts, DType dt) {
  for (const Tensor* t : ts)
    if (t->defined())
      check(t->device() == Device::CUDA && t->is_contiguous() && t->dtype() == dt, ErrorCode::INVALID_ARGUMENT,
            "Expected contiguous cuda tensors of one dtype for conv2d on cuda");
}

}  // namespace

const char* cuda_conv2d_backend() {
#ifdef TR_HAVE_CUDNN
  if (cudnn_handle()) return "cudnn";
#endif
  return "implicit-gemm";
}

void cuda_conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& weight, const Tensor& bias, const CudaConvShape& s) {
  Geom g = geom_of(s);
  DType dt = x.dtype();
  check_operands({&out, &x, &weight, &bias}, dt);
  if (out.numel() == 0) return;
#ifdef TR_HAVE_CUDNN
  if (g.N > 0 && g.Cin > 0 && cudnn_forward(out, x, weight, bias, g, dt)) return;  // the bias added there
#endif
  TR_CUDA_FLOAT_DISPATCH(dt, "conv2d", T, { gemm_forward<T>(out, x, weight, bias, g); });
}

void cuda_conv2d_backward(const Tensor& dx, const Tensor& dweight, const Tensor& dbias, const Tensor& dout, const Tensor& x,
                          const Tensor& weight, const CudaConvShape& s) {
  Geom g = geom_of(s);
  DType dt = dout.dtype();
  check_operands({&dx, &dweight, &dbias, &dout, &x, &weight}, dt);
  check(!dx.defined() || weight.defined(), ErrorCode::INVALID_ARGUMENT, "conv2d's input gradient needs the weight");
  check(!dweight.defined() || x.defined(), ErrorCode::INVALID_ARGUMENT, "conv2d's weight gradient needs the input");
#ifdef TR_HAVE_CUDNN
  if (g.N > 0 && g.Cin > 0 && g.Cout > 0) {
    auto [left_dx, left_dw] = cudnn_backward(dx, dweight, dout, x, weight, g, dt);
    TR_CUDA_FLOAT_DISPATCH(dt, "conv2d", T, { gemm_backward<T>(left_dx, left_dw, dbias, dout, x, weight, g); });
    return;
  }
#endif
  TR_CUDA_FLOAT_DISPATCH(dt, "conv2d", T, { gemm_backward<T>(dx, dweight, dbias, dout, x, weight, g); });
}

}  // namespace tr
