// autograd.h: the reverse-mode tape. Each op that needs a gradient records one Node on its output;
// backward() walks the nodes in reverse topological order.
// Accumulation rule: leaf (parameter) gradients are added (+=) into tensor.grad; a node's
// backward returns fresh gradients for its inputs (=), one per input, undefined where none.
// The first gradient to reach a slot becomes it without a copy when nothing else holds its buffer.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"
#include "core/tensor.h"

namespace tr {

struct Node {
  Op op = Op::Custom;
  std::vector<Tensor> inputs;  // the tensors this node sends gradients to
  bool released = false;       // saved tensors freed after a backward without retain_graph
  virtual ~Node() = default;
  // dout: gradient of the loss with respect to this node's output (contiguous, output's dtype).
  virtual std::vector<Tensor> backward(const Tensor& dout) = 0;
  virtual void release() { released = true; }
  virtual std::string name() const { return op_name(op); }
  // For a node with one input whose gradient is dout placed in a region of zeros (a slice's): that region
  // of `slot`, a gradient shaped like the input, so that the engine adds dout there in place instead of
  // building and adding a zero-padded copy (three slices of one qkv tensor: one buffer, no full-size
  // zeros or sums per slice). Undefined where `slot` is not a contiguous tensor of the input's shape.
  virtual bool has_grad_region() const { return false; }
  virtual Tensor grad_region(const Tensor& slot) const {
    (void)slot;
    return Tensor();
  }
};

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& dout)>;

struct FnNode : Node {
  BackwardFn fn;
  std::vector<Tensor> backward(const Tensor& dout) override { return fn(dout); }
  void release() override {
    fn = nullptr;
    released = true;
  }
};

// ---- grad mode ----
bool grad_enabled();
void set_grad_enabled(bool on);  // for the binding's noGrad scopes; C++ code uses the guards
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
 private:
  bool prev_;
};
class GradModeGuard {  // sets grad mode to `on` for its lifetime
 public:
  explicit GradModeGuard(bool on);
  ~GradModeGuard();
 private:
  bool prev_;
};

// ---- autocast (mixed precision) ----
// The dtype the products (linear, matmul, conv2d, attention) compute in when their inputs are float32:
// F32 (the default: off) or BF16, where the cpu has native bf16 products. Each such op then casts its
// float32 inputs to bf16, computes (float32 sums), and casts its output back to float32, all recorded, so
// float32 weights are the master copy and get float32 gradients; everything between the products (norms,
// activations, residual adds, losses) stays float32. Thread-local, like grad mode.
DType autocast_dtype();
void set_autocast_dtype(DType dtype);
// True when a float32 product on `device` should run in bf16 under autocast.
bool autocast_bf16(DType dtype, Device device);

// True when grad mode is on and any input requires a gradient.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Records `fn` as the backward of `out`, sending gradients to `inputs` (in order).
// The lambda captures what it saves; it must not capture `out` itself (use out.detach()).
void record(Tensor& out, Op op, std::vector<Tensor> inputs, BackwardFn fn);
void record_node(Tensor& out, std::shared_ptr<Node> node);

// Runs backward from `root`. `grad` defaults to ones (root must then have one element).
void backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Name of the op that produced t, or "a leaf".
std::string grad_fn_name(const Tensor& t);

// Reduces a broadcast gradient back to `shape` (sums over broadcast dimensions).
Tensor reduce_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace tr
