// view.cpp: reshape, permute, transpose, slice, expand (views sharing storage) and contiguous.
#include "cpu/kernel_util.h"

namespace tr {

Tensor reshape(const Tensor& a, const Shape& shape_in) {
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      check(infer < 0, ErrorCode::INVALID_ARGUMENT, "Expected at most one -1 in the shape for reshape but received ", shape_str(shape_in));
      infer = static_cast<int64_t>(i);
    } else {
      check(shape[i] >= 0, ErrorCode::INVALID_ARGUMENT, "Expected sizes >= 0 or one -1 for reshape but received ", shape_str(shape_in));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    check(known > 0 && a.numel() % known == 0, ErrorCode::SHAPE_MISMATCH, "Expected a shape compatible with ",
          a.numel(), " elements for reshape but received ", shape_str(shape_in));
    shape[infer] = a.numel() / known;
  }
  check(shape_numel(shape) == a.numel(), ErrorCode::SHAPE_MISMATCH, "Expected a shape with ", a.numel(),
        " elements for reshape of ", shape_str(a.shape()), " but received ", shape_str(shape_in));
  if (shape == a.shape()) return a;
  Tensor base = contiguous(a);
  Tensor out = view_of(base, shape, contiguous_strides(shape), base.offset());
  if (needs_grad({a})) {
    Shape in = a.shape();
    record(out, Op::Reshape, {a}, [in](const Tensor& dout) -> std::vector<Tensor> { return {reshape(dout, in)}; });
  }
  return out;
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& dims) {
  int r = a.rank();
  check(static_cast<int>(dims.size()) == r, ErrorCode::INVALID_ARGUMENT, "Expected ", r, " dimensions for permute of ",
        shape_str(a.shape()), " but received ", dims.size());
  std::vector<bool> seen(r, false);
  Shape sh(r), st(r);
  std::vector<int64_t> inv(r);
  for (int i = 0; i < r; ++i) {
    int d = normalize_dim(dims[i], r, "permute");
    check(!seen[d], ErrorCode::INVALID_ARGUMENT, "Expected a permutation for permute but received dimension ", dims[i], " twice");
    seen[d] = true;
    sh[i] = a.shape()[d];
    st[i] = a.strides()[d];
    inv[d] = i;
  }
  Tensor out = view_of(a, sh, st, a.offset());
  if (needs_grad({a})) record(out, Op::Permute, {a}, [inv](const Tensor& dout) -> std::vector<Tensor> { return {permute(dout, inv)}; });
  return out;
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  int r = a.rank();
  int x = normalize_dim(d0, r, "transpose"), y = normalize_dim(d1, r, "transpose");
  std::vector<int64_t> dims(r);
  for (int i = 0; i < r; ++i) dims[i] = i;
  std::swap(dims[x], dims[y]);
  return permute(a, dims);
}

namespace {
// A slice's backward is dout placed in its region of zeros. The autograd engine adds dout into that region of the
// input's gradient in place where it can (grad_region), so that the slices of one tensor share one buffer.
struct SliceNode : Node {
  Shape in, out;
  int d = 0;
  int64_t start = 0, step = 1;
  bool has_grad_region() const override { return true; }
  Tensor grad_region(const Tensor& slot) const override {  // slot: a contiguous gradient shaped like the input
    if (!slot.is_contiguous() || slot.shape() != in) return Tensor();
    Shape st = slot.strides();
    int64_t offset = slot.offset() + start * st[d];
    st[d] *= step;
    return view_of(slot, out, st, offset);
  }
  std::vector<Tensor> backward(const Tensor& dout) override {
    Tensor g = zeros(in, dout.dtype(), dout.device());
    copy_into(grad_region(g), dout);
    return {g};
  }
};
}  // namespace

Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  int d = normalize_dim(dim, a.rank(), "slice");
  int64_t n = a.shape()[d];
  check(step >= 1, ErrorCode::INVALID_ARGUMENT, "Expected a step >= 1 for slice but received ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::min(std::max<int64_t>(start, 0), n);
  end = std::min(std::max<int64_t>(end, start), n);
  Shape sh = a.shape(), st = a.strides();
  sh[d] = (end - start + step - 1) / step;
  st[d] = a.strides()[d] * step;
  Tensor out = view_of(a, sh, st, a.offset() + start * a.strides()[d]);
  if (needs_grad({a})) {
    auto node = std::make_shared<SliceNode>();
    node->op = Op::Slice;
    node->inputs.push_back(a);
    node->in = a.shape(), node->out = sh, node->d = d, node->start = start, node->step = step;
    record_node(out, std::move(node));
  }
  return out;
}

Tensor expand(const Tensor& a, const Shape& shape) {
  check(static_cast<int>(shape.size()) >= a.rank(), ErrorCode::SHAPE_MISMATCH, "Expected a shape of rank >= ", a.rank(),
        " for expand of ", shape_str(a.shape()), " but received ", shape_str(shape));
  int off = static_cast<int>(shape.size()) - a.rank();
  for (int i = 0; i < a.rank(); ++i)
    check(a.shape()[i] == shape[i + off] || a.shape()[i] == 1, ErrorCode::SHAPE_MISMATCH, "Expected a shape that ",
          shape_str(a.shape()), " broadcasts to for expand but received ", shape_str(shape));
  Tensor out = broadcast_view(a, shape);
  if (out.impl() == a.impl()) return a;
  if (needs_grad({a})) {
    Shape in = a.shape();
    record(out, Op::Expand, {a}, [in](const Tensor& dout) -> std::vector<Tensor> { return {reduce_to_shape(dout, in)}; });
  }
  return out;
}

Tensor clone_op(const Tensor& a) {
  Tensor out = clone(a);
  if (needs_grad({a})) record(out, Op::Contiguous, {a}, [](const Tensor& dout) -> std::vector<Tensor> { return {dout}; });
  return out;
}

Tensor contiguous_op(const Tensor& a) {
  if (a.is_contiguous()) return a;
  Tensor out = contiguous(a);
  if (needs_grad({a})) record(out, Op::Contiguous, {a}, [](const Tensor& dout) -> std::vector<Tensor> { return {dout}; });
  return out;
}

}  // namespace tr
