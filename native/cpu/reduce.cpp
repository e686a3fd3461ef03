// reduce.cpp: sum, mean and max over a set of axes. The reduced axes are moved last, so every
// reduction is over contiguous rows (a contiguous input reduced over its leading axes only, as a bias
// gradient is, is summed down its columns in place); accumulation is in double. On cuda the row loops run in
// native/cuda/reduce.cu (and a reduction over leading axes of a contiguous input needs no copy).
#include <limits>

#include "cpu/kernel_util.h"

namespace tr {

namespace {
struct ReducePlan {
  std::vector<int64_t> perm;  // kept axes first, then reduced axes
  Shape out_shape;            // without keepdim
  Shape keep_shape;           // with keepdim (reduced axes = 1)
  int64_t rows = 1, cols = 1;
};

ReducePlan plan_reduce(const Tensor& a, const std::vector<int64_t>& axes_in, const char* name) {
  int r = a.rank();
  std::vector<bool> red(r, axes_in.empty());
  for (auto ax : axes_in) {
    int d = normalize_dim(ax, r, name);
    check(!red[d], ErrorCode::INVALID_ARGUMENT, "Expected distinct axes for ", name, " but received axis ", ax, " twice");
    red[d] = true;
  }
  ReducePlan p;
  for (int i = 0; i < r; ++i)
    if (!red[i]) {
      p.perm.push_back(i);
      p.out_shape.push_back(a.shape()[i]);
      p.rows *= a.shape()[i];
    }
  for (int i = 0; i < r; ++i)
    if (red[i]) {
      p.perm.push_back(i);
      p.cols *= a.shape()[i];
    }
  for (int i = 0; i < r; ++i) p.keep_shape.push_back(red[i] ? 1 : a.shape()[i]);
  return p;
}

// Whether the reduced axes are exactly the leading ones, so a contiguous input is already (cols, rows).
bool reduces_leading_axes(const ReducePlan& p, int rank) {
  int kept = static_cast<int>(p.out_shape.size());
  if (kept == rank) return false;
  for (int i = 0; i < rank - kept; ++i)
    if (p.perm[kept + i] != i) return false;
  return true;
}

// Rows of the permuted, contiguous input: (rows, cols).
Tensor rows_view(const Tensor& a, const ReducePlan& p) {
  Shape st, sh;
  for (auto d : p.perm) {
    sh.push_back(a.shape()[d]);
    st.push_back(a.strides()[d]);
  }
  return contiguous(view_of(a, sh, st, a.offset()));
}

template <typename T>
void sum_rows(const T* in, T* out, int64_t rows, int64_t cols, double scale) {
  parallel_for(rows, std::max<int64_t>(1, kGrainElementwise / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* row = in + i * cols;
      double acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
      int64_t j = 0;
      for (; j + 4 <= cols; j += 4) {
        acc0 += row[j];
        acc1 += row[j + 1];
        acc2 += row[j + 2];
        acc3 += row[j + 3];
      }
      for (; j < cols; ++j) acc0 += row[j];
      out[i] = static_cast<T>((acc0 + acc1 + acc2 + acc3) * scale);
    }
  });
}

// in (cols, rows), contiguous: out[i] = scale * sum over j of in[j * rows + i], in double, j in order;
// each output belongs to one chunk, so the result does not depend on the thread count. A bias
// gradient (dout summed over every row) reads dout in place instead of transposing it first.
template <typename T>
void sum_cols(const T* in, T* out, int64_t rows, int64_t cols, double scale) {
  parallel_for(rows, 256, [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(e - b), 0.0);
    double* pa = acc.data();
    for (int64_t j = 0; j < cols; ++j) {
      const T* r = in + j * rows + b;
      for (int64_t i = 0; i < e - b; ++i) pa[i] += static_cast<double>(r[i]);
    }
    for (int64_t i = b; i < e; ++i) out[i] = static_cast<T>(pa[i - b] * scale);
  });
}

// Sums over the rows' leading dimension when only leading axes are reduced: (cols_red, rows) -> rows.
Tensor reduce_sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim, double scale, const char* name) {
  ReducePlan p = plan_reduce(a, axes, name);
  Tensor out = empty(keepdim ? p.keep_shape : p.out_shape, a.dtype(), a.device());
  // Only leading axes reduced over a contiguous input (bias gradients): sum down the columns in place.
  bool columns = a.is_contiguous() && reduces_leading_axes(p, a.rank());
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) {
    if (columns) cuda_sum_cols(out, a, p.rows, p.cols, scale);
    else cuda_sum_rows(out, rows_view(a, p), p.rows, p.cols, scale);
    return out;
  }
#endif
  if (columns && p.rows > 1) {
    TR_FLOAT_DISPATCH(a.dtype(), T, { sum_cols<T>(a.data<T>(), out.data<T>(), p.rows, p.cols, scale); });
    return out;
  }
  Tensor rows = rows_view(a, p);
  TR_FLOAT_DISPATCH(a.dtype(), T, { sum_rows<T>(rows.data<T>(), out.data<T>(), p.rows, p.cols, scale); });
  return out;
}

// Gradient of a reduction: dout (kept shape) broadcast back over the reduced axes, times scale.
Tensor expand_back(const Tensor& dout, const Shape& keep_shape, const Shape& in_shape, double scale) {
  Tensor d = reshape(dout, keep_shape);
  Tensor out = empty(in_shape, dout.dtype(), dout.device());
  Tensor src = view_of(d, in_shape, [&] {
    Shape st = d.strides();
    for (size_t i = 0; i < in_shape.size(); ++i)
      if (keep_shape[i] == 1 && in_shape[i] != 1) st[i] = 0;
    return st;
  }(), d.offset());
  copy_into(out, src);
  if (scale != 1.0) mul_scalar_inplace(out, scale);
  return out;
}
}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  check_float(a, "sum", "a");
  if (promote(a)) return cast(sum(up(a), axes, keepdim), a.dtype());
  Tensor out = reduce_sum(a, axes, keepdim, 1.0, "sum");
  if (needs_grad({a})) {
    Shape keep = plan_reduce(a, axes, "sum").keep_shape, in = a.shape();
    record(out, Op::Sum, {a}, [keep, in](const Tensor& dout) -> std::vector<Tensor> { return {expand_back(dout, keep, in, 1.0)}; });
  }
  return out;
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  check_float(a, "mean", "a");
  if (promote(a)) return cast(mean(up(a), axes, keepdim), a.dtype());
  ReducePlan p = plan_reduce(a, axes, "mean");
  check(p.cols > 0, ErrorCode::INVALID_ARGUMENT, "Expected a non-empty tensor for mean but received shape ", shape_str(a.shape()));
  double scale = 1.0 / static_cast<double>(p.cols);
  Tensor out = reduce_sum(a, axes, keepdim, scale, "mean");
  if (needs_grad({a})) {
    Shape keep = p.keep_shape, in = a.shape();
    record(out, Op::Mean, {a}, [keep, in, scale](const Tensor& dout) -> std::vector<Tensor> { return {expand_back(dout, keep, in, scale)}; });
  }
  return out;
}

Tensor max(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  check_float(a, "max", "a");
  if (promote(a)) return cast(max(up(a), axes, keepdim), a.dtype());
  ReducePlan p = plan_reduce(a, axes, "max");
  check(p.cols > 0, ErrorCode::INVALID_ARGUMENT, "Expected a non-empty tensor for max but received shape ", shape_str(a.shape()));
  Tensor rows = rows_view(a, p);
  Tensor out = empty(keepdim ? p.keep_shape : p.out_shape, a.dtype(), a.device());
  auto argmax = std::make_shared<std::vector<int64_t>>();
  Tensor argmax_dev;  // on cuda: int32 (rows)
#ifdef TR_HAVE_CUDA
  if (a.device() == Device::CUDA) {
    argmax_dev = empty({p.rows}, DType::I32, Device::CUDA);
    cuda_max_rows(out, argmax_dev, rows, p.rows, p.cols);
  } else
#endif
  {
  argmax->resize(p.rows);
  TR_FLOAT_DISPATCH(a.dtype(), T, {
    const T* in = rows.data<T>();
    T* po = out.data<T>();
    int64_t cols = p.cols;
    parallel_for(p.rows, 256, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = in + i * cols;
        int64_t best = 0;
        for (int64_t j = 1; j < cols; ++j)
          if (row[j] > row[best] || (std::isnan(row[j]) && !std::isnan(row[best]))) best = j;
        (*argmax)[i] = best;
        po[i] = row[best];
      }
    });
  });
  }
  if (needs_grad({a})) {
    Shape in = a.shape();
    std::vector<int64_t> perm = p.perm;
    int64_t nrows = p.rows, cols = p.cols;
    record(out, Op::Max, {a}, [in, perm, argmax, argmax_dev, nrows, cols](const Tensor& dout) -> std::vector<Tensor> {
      // Scatter into the permuted (rows, cols) layout, then permute back.
      Shape psh;
      for (auto d : perm) psh.push_back(in[d]);
      Tensor g = zeros(psh, dout.dtype(), dout.device());
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) cuda_scatter_rows(g, dout, argmax_dev, nrows, cols);
      else
#endif
      TR_FLOAT_DISPATCH(dout.dtype(), T, {
        const T* pd = dout.data<T>();
        T* pg = g.data<T>();
        for (int64_t i = 0; i < nrows; ++i) pg[i * cols + (*argmax)[i]] = pd[i];
      });
      std::vector<int64_t> inv(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int64_t>(i);
      return {contiguous(permute(g, inv))};
    });
  }
  return out;
}

}  // namespace tr
