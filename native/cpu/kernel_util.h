// kernel_util.h: shared pieces of the CPU kernels: low-precision promotion, elementwise maps
// (flat when contiguous, row-wise over broadcast strides otherwise) and broadcast views.
#pragma once
#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_ops.h"  // the compute of an op whose inputs are on cuda
#endif

namespace tr {

constexpr int64_t kGrainElementwise = 1 << 14;

// bf16/f16 tensors compute in f32: ops call up() on their inputs and cast the result back.
inline bool lowp(const Tensor& t) { return t.dtype() == DType::BF16 || t.dtype() == DType::F16; }
inline Tensor up(const Tensor& t) { return t.defined() && lowp(t) ? cast(t, DType::F32) : t; }
// Whether an op promotes t before computing: bf16/f16 on the cpu. The CUDA kernels read bf16/f16
// storage directly and compute in f32, so cuda tensors are not promoted.
inline bool promote(const Tensor& t) { return t.defined() && lowp(t) && t.device() == Device::CPU; }

// A view of t broadcast to `shape` (zero strides on broadcast dims). No copy.
inline Tensor broadcast_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  int r = static_cast<int>(shape.size()), rt = t.rank();
  Shape st(r, 0);
  for (int i = 0; i < r; ++i) {
    int j = i - (r - rt);
    if (j >= 0 && t.shape()[j] == shape[i]) st[i] = t.strides()[j];
  }
  return view_of(t, shape, st, t.offset());
}

// out[i] = f(a[i]) for a contiguous `out` and any `a` of the same shape.
template <typename T, typename F>
void map1(const Tensor& out, const Tensor& a_in, F f) {
  Tensor a = contiguous(a_in);
  const T* pa = a.data<T>();
  T* po = out.data<T>();
  parallel_for(out.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) po[i] = f(pa[i]);
  });
}

// out[i] = f(a[i], b[i]) for a contiguous `out`; a and b are views of out's shape (any strides, zeros allowed).
template <typename T, typename F>
void map2(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  int64_t n = out.numel();
  if (n == 0) return;
  T* po = out.data<T>();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  if (a.is_contiguous() && b.is_contiguous()) {
    parallel_for(n, kGrainElementwise, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  const Shape& shape = out.shape();
  int r = out.rank();
  int64_t inner = shape[r - 1], rows = n / inner;
  int64_t as = a.strides()[r - 1], bs = b.strides()[r - 1];
  parallel_for(rows, std::max<int64_t>(1, kGrainElementwise / inner), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      int64_t ao = 0, bo = 0, rem = row;
      for (int d = r - 2; d >= 0; --d) {
        int64_t idx = rem % shape[d];
        rem /= shape[d];
        ao += idx * a.strides()[d];
        bo += idx * b.strides()[d];
      }
      const T* ra = pa + ao;
      const T* rb = pb + bo;
      T* ro = po + row * inner;
      if (as == 1 && bs == 1) for (int64_t i = 0; i < inner; ++i) ro[i] = f(ra[i], rb[i]);
      else if (as == 1 && bs == 0) { T vb = rb[0]; for (int64_t i = 0; i < inner; ++i) ro[i] = f(ra[i], vb); }
      else if (as == 0 && bs == 1) { T va = ra[0]; for (int64_t i = 0; i < inner; ++i) ro[i] = f(va, rb[i]); }
      else for (int64_t i = 0; i < inner; ++i) ro[i] = f(ra[i * as], rb[i * bs]);
    }
  });
}

// A new contiguous tensor of shape/dtype like `like`, filled by map1 / map2.
template <typename T, typename F>
Tensor unary_new(const Tensor& a, F f) {
  Tensor out = empty(a.shape(), a.dtype(), a.device());
  map1<T>(out, a, f);
  return out;
}
template <typename T, typename F>
Tensor binary_new(const Tensor& a, const Tensor& b, F f) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "an elementwise op");
  Tensor out = empty(shape, a.dtype(), a.device());
  map2<T>(out, broadcast_view(a, shape), broadcast_view(b, shape), f);
  return out;
}

}  // namespace tr
