// autograd.cpp: grad mode, recording and the backward walk.
#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

namespace tr {

namespace {
thread_local bool tl_grad_enabled = true;
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

static void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = clone(g);
  } else {
    add_inplace(slot, g, 1.0);
  }
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
    Tensor g = root.grad();
    accumulate(g, grad);
    root.impl()->grad = g;
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
    std::vector<Tensor> gin = node->backward(dout);
    check(gin.size() == node->inputs.size(), ErrorCode::INTERNAL, node->name(), " backward returned ", gin.size(),
          " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < gin.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !gin[i].defined()) continue;
      check(gin[i].shape() == in.shape(), ErrorCode::INTERNAL, node->name(), " backward gave a gradient of shape ",
            shape_str(gin[i].shape()), " for an input of shape ", shape_str(in.shape()));
      Tensor g = gin[i].dtype() == in.dtype() ? gin[i] : cast_raw(gin[i], in.dtype());
      if (in.grad_fn()) {
        accumulate(grads[in.grad_fn().get()], g);
      } else {
        Tensor slot = in.grad();
        accumulate(slot, g);
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
