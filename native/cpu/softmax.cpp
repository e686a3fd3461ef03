// softmax.cpp: softmax and log-softmax over one dimension, viewed as (outer, dim, inner).
// Backward: softmax dx = y * (dy - sum(dy * y)); log-softmax dx = dy - exp(y) * sum(dy).
// On cuda both loops are native/cuda/softmax.cu's kernels.
#include "cpu/kernel_util.h"

namespace tr {

namespace {
struct Layout {
  int64_t outer = 1, dim = 1, inner = 1;
};
Layout layout_of(const Shape& s, int d) {
  Layout l;
  for (int i = 0; i < d; ++i) l.outer *= s[i];
  l.dim = s[d];
  for (size_t i = d + 1; i < s.size(); ++i) l.inner *= s[i];
  return l;
}

template <typename T>
void softmax_forward(T* out, const T* in, Layout l, bool log_space) {
  parallel_for(l.outer * l.inner, std::max<int64_t>(1, 2048 / std::max<int64_t>(l.dim, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t o = r / l.inner, i = r % l.inner;
      const T* x = in + o * l.dim * l.inner + i;
      T* y = out + o * l.dim * l.inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < l.dim; ++j) m = std::max(m, x[j * l.inner]);
      double s = 0;
      for (int64_t j = 0; j < l.dim; ++j) s += std::exp(static_cast<double>(x[j * l.inner] - m));
      if (log_space) {
        T lse = m + static_cast<T>(std::log(s));
        for (int64_t j = 0; j < l.dim; ++j) y[j * l.inner] = x[j * l.inner] - lse;
      } else {
        T inv = static_cast<T>(1.0 / s);
        for (int64_t j = 0; j < l.dim; ++j) y[j * l.inner] = std::exp(x[j * l.inner] - m) * inv;
      }
    }
  });
}

template <typename T>
void softmax_backward(T* dx, const T* dy, const T* y, Layout l, bool log_space) {
  parallel_for(l.outer * l.inner, std::max<int64_t>(1, 2048 / std::max<int64_t>(l.dim, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t o = r / l.inner, i = r % l.inner, base = o * l.dim * l.inner + i;
      double s = 0;
      if (log_space) {
        for (int64_t j = 0; j < l.dim; ++j) s += dy[base + j * l.inner];
        for (int64_t j = 0; j < l.dim; ++j) {
          int64_t k = base + j * l.inner;
          dx[k] = dy[k] - std::exp(y[k]) * static_cast<T>(s);
        }
      } else {
        for (int64_t j = 0; j < l.dim; ++j) s += static_cast<double>(dy[base + j * l.inner]) * y[base + j * l.inner];
        for (int64_t j = 0; j < l.dim; ++j) {
          int64_t k = base + j * l.inner;
          dx[k] = y[k] * (dy[k] - static_cast<T>(s));
        }
      }
    }
  });
}

Tensor softmax_impl(const Tensor& a_in, int64_t dim_in, bool log_space) {
  const char* name = log_space ? "logSoftmax" : "softmax";
  check_float(a_in, name, "a");
  int d = normalize_dim(dim_in, a_in.rank(), name);
  Tensor a = contiguous(a_in);
  Layout l = layout_of(a.shape(), d);
  Tensor out = empty(a.shape(), a.dtype(), a.device());
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) cuda_softmax_forward(out, a, l.outer, l.dim, l.inner, log_space);
  else
#endif
  TR_FLOAT_DISPATCH(a.dtype(), T, { softmax_forward<T>(out.data<T>(), a.data<T>(), l, log_space); });
  if (needs_grad({a_in})) {
    Tensor y = out.detach();
    record(out, log_space ? Op::LogSoftmax : Op::Softmax, {a_in}, [y, l, log_space](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx = empty(y.shape(), y.dtype(), y.device());
#ifdef TR_HAVE_CUDA
      if (y.device() == Device::CUDA) {
        cuda_softmax_backward(dx, dout, y, l.outer, l.dim, l.inner, log_space);
        return {dx};
      }
#endif
      TR_FLOAT_DISPATCH(y.dtype(), T, { softmax_backward<T>(dx.data<T>(), dout.data<T>(), y.data<T>(), l, log_space); });
      return {dx};
    });
  }
  return out;
}
}  // namespace

Tensor softmax(const Tensor& a, int64_t dim) {
  if (promote(a)) return cast(softmax(up(a), dim), a.dtype());
  return softmax_impl(a, dim, false);
}

Tensor log_softmax(const Tensor& a, int64_t dim) {
  if (promote(a)) return cast(log_softmax(up(a), dim), a.dtype());
  return softmax_impl(a, dim, true);
}

}  // namespace tr
