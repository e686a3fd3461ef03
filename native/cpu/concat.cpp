// concat.cpp: join tensors along one dimension; backward hands each input its slice of dout.
#include "cpu/kernel_util.h"

namespace tr {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  check(!xs.empty(), ErrorCode::INVALID_ARGUMENT, "Expected at least one tensor for concat but received none");
  const Tensor& first = xs[0];
  int r = first.rank();
  check(r >= 1, ErrorCode::SHAPE_MISMATCH, "Expected tensors of rank >= 1 for concat but received a scalar");
  int d = normalize_dim(dim, r, "concat");
  Shape os = first.shape();
  os[d] = 0;
  op_device("concat", xs);  // the copies below run on that device (native/cuda/copy.cu on cuda)
  for (size_t i = 0; i < xs.size(); ++i) {
    check_float(xs[i], "concat", "tensors");
    check_same_dtype(first, xs[i], "concat");
    check(xs[i].rank() == r, ErrorCode::SHAPE_MISMATCH, "Expected tensors of rank ", r, " for concat but tensor ", i,
          " has shape ", shape_str(xs[i].shape()));
    for (int j = 0; j < r; ++j)
      check(j == d || xs[i].shape()[j] == first.shape()[j], ErrorCode::SHAPE_MISMATCH, "Expected shapes that agree except in dimension ",
            d, " for concat but received ", shape_str(first.shape()), " and ", shape_str(xs[i].shape()));
    os[d] += xs[i].shape()[d];
  }
  Tensor out = empty(os, first.dtype(), first.device());
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const auto& x : xs) {
    starts.push_back(at);
    Shape sh = os;
    sh[d] = x.shape()[d];
    copy_into(view_of(out, sh, out.strides(), at * out.strides()[d]), x);
    at += x.shape()[d];
  }
  if (needs_grad(xs)) {
    std::vector<int64_t> sizes;
    for (const auto& x : xs) sizes.push_back(x.shape()[d]);
    record(out, Op::Concat, xs, [starts, sizes, d](const Tensor& dout) -> std::vector<Tensor> {
      std::vector<Tensor> gs;
      NoGradGuard ng;
      for (size_t i = 0; i < sizes.size(); ++i) gs.push_back(contiguous(slice(dout, d, starts[i], starts[i] + sizes[i], 1)));
      return gs;
    });
  }
  return out;
}

Tensor cast(const Tensor& a, DType dtype) {
  if (a.dtype() == dtype) return a;
  check(is_float(dtype) || !needs_grad({a}), ErrorCode::DTYPE, "Expected a floating-point dtype for a cast that needs a gradient but received ", dtype_name(dtype));
  Tensor out = cast_raw(a, dtype);
  if (needs_grad({a}) && is_float(dtype)) {
    DType from = a.dtype();
    record(out, Op::Cast, {a}, [from](const Tensor& dout) -> std::vector<Tensor> { return {cast_raw(dout, from)}; });
  }
  return out;
}

}  // namespace tr
