// autograd.cpp: grad mode, recording and the backward walk.
#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

namespace tr {

namespace {
thread_local bool tl_grad_enabled = true;
}

namespace {
thread_local DType tl_autocast = DType::F32;
}
DType autocast_dtype() { return tl_autocast; }
void set_autocast_dtype(DType dtype) {
  check(dtype == DType::F32 || dtype == DType::BF16, ErrorCode::DTYPE, "Expected float32 (off) or bfloat16 for autocast but received ",
        dtype_name(dtype));
  tl_autocast = dtype;
}
bool autocast_bf16(DType dtype, Device device) {
  return tl_autocast == DType::BF16 && dtype == DType::F32 && (device == Device::CPU || device == Device::CUDA);
}

bool grad_enabled() { return tl_grad_enabled; }
void set_grad_enabled(bool on) { tl_grad_enabled = on; }
NoGradGuard::NoGradGuard() : prev_(tl_grad_enabled) { tl_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { tl_grad_enabled = prev_; }
GradModeGuard::GradModeGuard(bool on) : prev_(tl_grad_enabled) { tl_grad_enabled = on; }
GradModeGuard::~GradModeGuard() { tl_grad_enabled = prev_; }

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!tl_grad_enabled) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!tl_grad_enabled) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record_node(Tensor& out, std::shared_ptr<Node> node) {
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
}

void record(Tensor& out, Op op, std::vector<Tensor> inputs, BackwardFn fn) {
  auto node = std::make_shared<FnNode>();
  node->op = op;
  // Inputs that need no gradient are kept as undefined slots: the node does not keep them alive.
  for (auto& t : inputs) node->inputs.push_back(t.defined() && t.requires_grad() ? t : Tensor());
  node->fn = std::move(fn);
  record_node(out, std::move(node));
}

std::string grad_fn_name(const Tensor& t) {
  if (!t.defined()) return "none";
  if (!t.grad_fn()) return "a leaf";
  return t.grad_fn()->name();
}

// Gradients smaller than this are cloned even when they could be taken: the copy costs a few
// microseconds, and keeping small kernel outputs alive instead of their copies fragmented glibc's
// heap in a long loop of small steps (test/engine/memory.test.ts: RSS +25 MB over 2,000 steps).
constexpr size_t kTakeMinBytes = 64 * 1024;

// True when `g` can become a gradient slot as it is: this handle is the only one to its TensorImpl,
// that impl the only one on its storage (so it is no view of dout, of a saved tensor, of another
// gradient or of anything the caller holds), it covers the whole storage contiguously, and it
// carries no autograd state. The caller must hold `g` by value and have moved every other copy away.
static bool can_take(const Tensor& g, DType dtype, Device device) {
  size_t bytes = static_cast<size_t>(g.numel()) * dtype_size(dtype);
  return bytes >= kTakeMinBytes && g.ptr().use_count() == 1 && g.storage().use_count() == 1 && g.dtype() == dtype &&
         g.device() == device && g.offset() == 0 && g.is_contiguous() && !g.requires_grad() && g.is_leaf() &&
         !g.grad().defined() && g.storage()->bytes() == bytes;
}

// The first gradient to reach a slot becomes it: taken when nobody else can see its buffer, else
// cloned (a pass-through like add's or a view's shares dout's buffer, which other inputs also get).
// Later gradients are added in place.
static void accumulate(Tensor& slot, Tensor g, DType dtype, Device device) {
  if (slot.defined()) {
    add_inplace(slot, g, 1.0);
  } else if (can_take(g, dtype, device)) {
    slot = std::move(g);
  } else {
    slot = clone(g);
  }
}

// A region node's (a slice's) gradient written into its input's gradient: the slot is made zeros the first
// time and dout copied into the region, later gradients for other regions (or the same one) are added there
// (the region's sum with dout copied back). On the cpu in float32 and float64, where it was measured; false
// leaves the node to its own backward.
static bool scatter_into_region(const Node& node, const Tensor& dout, std::unordered_map<Node*, Tensor>& grads) {
  if (node.inputs.size() != 1 || !node.inputs[0].defined()) return false;
  const Tensor& in = node.inputs[0];
  if (in.device() != Device::CPU || dout.device() != Device::CPU || dout.dtype() != in.dtype() ||
      (in.dtype() != DType::F32 && in.dtype() != DType::F64))
    return false;
  if (!node.has_grad_region()) return false;
  Tensor leaf_slot = in.grad_fn() ? Tensor() : in.grad();
  Tensor& slot = in.grad_fn() ? grads[in.grad_fn().get()] : leaf_slot;
  if (slot.defined()) {  // a gradient already there: add into its region, or leave it to the node where it has none
    Tensor region = node.grad_region(slot);
    if (!region.defined()) return false;
    copy_into(region, add(region, dout));
  } else {
    slot = zeros(in.shape(), in.dtype(), in.device());
    copy_into(node.grad_region(slot), dout);
  }
  if (!in.grad_fn()) in.impl()->grad = slot;
  return true;
}

void backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  check(root.defined(), ErrorCode::INVALID_ARGUMENT, "Expected a tensor for backward but received none");
  check(root.requires_grad(), ErrorCode::NO_GRAPH,
        "Expected a tensor that requires grad for backward but received one with no graph: "
        "no input of the computation had requiresGrad set, or it was computed under noGrad");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    check(root.numel() == 1, ErrorCode::SHAPE_MISMATCH,
          "Expected a one-element tensor for backward() without a gradient but received shape ", shape_str(root.shape()),
          "; pass a gradient of the same shape");
    grad = full(root.shape(), 1.0, root.dtype(), root.device());
  } else {
    check(grad.shape() == root.shape(), ErrorCode::SHAPE_MISMATCH, "Expected a gradient of shape ", shape_str(root.shape()),
          " for backward but received ", shape_str(grad.shape()));
    grad = cast_raw(grad, root.dtype());
  }
  NoGradGuard no_grad;  // gradients are not differentiated again (no double backward)

  if (root.is_leaf()) {
    Tensor slot = root.grad();
    accumulate(slot, grad, root.dtype(), root.device());
    root.impl()->grad = slot;
    return;
  }

  // Topological order of nodes reachable from the root (iterative DFS, post-order).
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  stack.push_back({root.grad_fn().get(), 0});
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->inputs.size()) {
      const Tensor& in = node->inputs[i++];
      if (in.defined() && in.grad_fn() && !seen.count(in.grad_fn().get())) {
        seen.insert(in.grad_fn().get());
        stack.push_back({in.grad_fn().get(), 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = grads.find(node);
    if (found == grads.end()) continue;
    Tensor dout = contiguous(found->second);
    grads.erase(found);
    check(!node->released, ErrorCode::NO_GRAPH,
          "Expected a graph that is still held for backward but ", node->name(),
          "'s saved tensors were already freed by an earlier backward; pass retainGraph: true to the first backward");
    if (scatter_into_region(*node, dout, grads)) {
      dout = Tensor();
      if (!retain_graph) node->release();
      continue;
    }
    std::vector<Tensor> gin = node->backward(dout);
    dout = Tensor();  // a pass-through gradient (a view's, a reshape's) is then the only holder of dout's buffer
    check(gin.size() == node->inputs.size(), ErrorCode::INTERNAL, node->name(), " backward returned ", gin.size(),
          " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !gin[i].defined()) continue;
      check(gin[i].shape() == in.shape(), ErrorCode::INTERNAL, node->name(), " backward gave a gradient of shape ",
            shape_str(gin[i].shape()), " for an input of shape ", shape_str(in.shape()));
      // Moved out of gin so that a fresh gradient is held once here and can be taken as the slot.
      Tensor g = gin[i].dtype() == in.dtype() ? std::move(gin[i]) : cast_raw(gin[i], in.dtype());
      gin[i] = Tensor();
      if (in.grad_fn()) {
        accumulate(grads[in.grad_fn().get()], std::move(g), in.dtype(), in.device());
      } else {
        Tensor slot = in.grad();
        accumulate(slot, std::move(g), in.dtype(), in.device());
        in.impl()->grad = slot;
      }
    }
    if (!retain_graph) node->release();
  }
}

Tensor reduce_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  int r = grad.rank(), rs = static_cast<int>(shape.size());
  std::vector<int64_t> axes;
  for (int i = 0; i < r; ++i) {
    int j = i - (r - rs);
    if (j < 0 || (shape[j] == 1 && grad.shape()[i] != 1)) axes.push_back(i);
  }
  Tensor s = axes.empty() ? grad : sum(grad, axes, true);
  return reshape(s, shape);
}

}  // namespace tr
