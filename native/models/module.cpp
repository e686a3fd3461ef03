// module.cpp: parameter registration, naming, seeded initialisation, the layers and checkpointing.
#include "models/module.h"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/device.h"
#include "core/rng.h"

namespace tr::models {

Tensor Init::uniform(const Shape& shape, double bound) {
  Tensor t = rand(shape, seed_, offset_, DType::F32);
  offset_ += static_cast<uint64_t>(shape_numel(shape));
  NoGradGuard ng;
  Tensor out = add_scalar(mul_scalar(t, 2 * bound), -bound);
  return out;
}

Tensor Init::normal(const Shape& shape, double std) {
  Tensor t = randn(shape, seed_, offset_, DType::F32);
  offset_ += static_cast<uint64_t>(shape_numel(shape));
  NoGradGuard ng;
  return mul_scalar(t, std);
}

Tensor& Module::param(const std::string& name, Tensor t) {
  Tensor p = contiguous(t).detach();
  p.set_requires_grad(true);
  params_.emplace_back(name, std::make_unique<Tensor>(p));
  return *params_.back().second;
}

void Module::named_parameters(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [name, t] : params_) out.emplace_back(prefix + name, *t);
  for (const auto& [name, m] : children_) m->named_parameters(prefix + name + ".", out);
}

NamedTensors Module::parameters() const {
  NamedTensors out;
  named_parameters("", out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : parameters()) n += t.numel();
  return n;
}

namespace {
// A copy on `device` of the whole of t's storage (read as a flat run of t's dtype), so that every view
// into it keeps its offset and strides.
StoragePtr storage_copy(const Tensor& t, Device device) {
  int64_t n = static_cast<int64_t>(t.storage()->bytes() / dtype_size(t.dtype()));
  return to_device(view_of(t, {n}, {1}, 0), device).storage();
}
}  // namespace

void move_parameters(const Module& module, Device device) {
  // 1. the distinct tensors to move. Gradients move with their parameters (as torch's Module.to moves
  // .grad): dropping them would lose a half-accumulated gradient, and keeping them behind would make
  // the next optimizer step or backward mix devices. In place too, so handles to a .grad see the move.
  NamedTensors params = module.parameters();  // keeps every impl below alive
  std::vector<Tensor> tensors;
  std::unordered_set<TensorImpl*> seen;
  for (const auto& [name, p] : params)
    for (const Tensor& t : {p, p.grad()})
      if (t.defined() && seen.insert(t.impl()).second) tensors.push_back(t);
  // 2. one copy per distinct storage not yet on the device (this may throw: nothing is changed yet)
  std::unordered_map<const Storage*, StoragePtr> copies;
  for (const Tensor& t : tensors)
    if (t.device() != device && !copies.count(t.storage().get())) copies[t.storage().get()] = storage_copy(t, device);
  // 3. swap them in; nothing here throws
  for (const Tensor& t : tensors) {
    auto it = copies.find(t.storage().get());
    if (it == copies.end()) continue;
    t.impl()->storage = it->second;
    t.impl()->device = device;
  }
}

// ---- layers (PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))) ----

Linear::Linear(int64_t in, int64_t out, bool with_bias, Init& init) {
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = &param("weight", init.uniform({out, in}, bound));
  bias = with_bias ? &param("bias", init.uniform({out}, bound)) : nullptr;
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, *weight, bias ? *bias : Tensor()); }

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t s, int64_t p, bool with_bias, Init& init, int64_t g)
    : stride(s), padding(p), groups(g) {
  double bound = 1.0 / std::sqrt(static_cast<double>(in / g * kernel * kernel));
  weight = &param("weight", init.uniform({out, in / g, kernel, kernel}, bound));
  bias = with_bias ? &param("bias", init.uniform({out}, bound)) : nullptr;
}

Tensor Conv2d::forward(const Tensor& x) const {
  return conv2d(x, *weight, bias ? *bias : Tensor(), stride, stride, padding, padding, groups);
}

GroupNorm::GroupNorm(int64_t g, int64_t channels, double e) : groups(g), eps(e) {
  weight = &param("weight", full({channels}, 1.0, DType::F32));
  bias = &param("bias", zeros({channels}, DType::F32));
}

Tensor GroupNorm::forward(const Tensor& x) const { return group_norm(x, groups, *weight, *bias, eps); }
Tensor GroupNorm::forward_silu(const Tensor& x) const { return group_norm_silu(x, groups, *weight, *bias, eps); }

LayerNorm::LayerNorm(int64_t channels, double e) : eps(e) {
  weight = &param("weight", full({channels}, 1.0, DType::F32));
  bias = &param("bias", zeros({channels}, DType::F32));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, 1, *weight, *bias, eps); }

Embedding::Embedding(int64_t vocab, int64_t dim, Init& init) { weight = &param("weight", init.normal({vocab, dim}, 1.0)); }

Tensor Embedding::forward(const Tensor& ids) const { return embedding(*weight, ids); }

Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask) {
  int64_t C = q.shape()[2];
  check(C % heads == 0, ErrorCode::SHAPE_MISMATCH, "Expected channels divisible by heads (", heads, ") for attention but received ", C);
  // the split into heads (B, H, N, C / heads), the fused attention and the merge back to (B, Nq, C): on the cpu
  // without copies (the kernels read the heads in place and write the output's tokens)
  return attention_heads(q, k, v, heads, mask, 1.0 / std::sqrt(static_cast<double>(C / heads)));
}

Tensor timestep_embedding(const Tensor& t, int64_t dim) {
  // Not differentiable with respect to t (timesteps are data): computed directly, on the host (B numbers),
  // then sent to t's device.
  int64_t half = dim / 2;
  Tensor tf = cast_raw(to_device(t, Device::CPU), DType::F64);
  int64_t B = tf.numel();
  Tensor out = zeros({B, dim}, DType::F32);
  const double* pt = tf.data<double>();
  float* po = out.data<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < half; ++i) {
      double f = std::exp(-std::log(10000.0) * static_cast<double>(i) / static_cast<double>(half));
      // float32 arithmetic, as diffusers computes it
      float a = static_cast<float>(pt[b]) * static_cast<float>(f);
      po[b * dim + i] = static_cast<float>(std::cos(a));
      po[b * dim + half + i] = static_cast<float>(std::sin(a));
    }
  return to_device(out, t.device());
}

namespace {
struct CheckpointNode : Node {
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  std::vector<Tensor> saved;  // the inputs' values (detached)
  std::vector<Tensor> backward(const Tensor& dout) override {
    GradModeGuard grad_on(true);
    std::vector<Tensor> xs;
    for (size_t i = 0; i < saved.size(); ++i) {
      if (!saved[i].defined()) {  // an optional input that was absent
        xs.push_back(Tensor());
        continue;
      }
      Tensor x = saved[i].detach();
      if (inputs[i].defined()) x.set_requires_grad(true);
      xs.push_back(x);
    }
    Tensor y = fn(xs);
    tr::backward(y, dout, false);
    std::vector<Tensor> grads;
    for (auto& x : xs) grads.push_back(x.defined() && x.requires_grad() ? x.grad() : Tensor());
    return grads;
  }
  void release() override {
    fn = nullptr;
    saved.clear();
    released = true;
  }
};
}  // namespace

Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return fn(inputs);
  Tensor out;
  {
    NoGradGuard ng;
    out = fn(inputs);
  }
  if (!grad_enabled()) return out;
  auto node = std::make_shared<CheckpointNode>();
  node->op = Op::Checkpoint;
  node->fn = fn;
  for (const auto& t : inputs) {
    node->inputs.push_back(t.defined() && t.requires_grad() ? t : Tensor());
    node->saved.push_back(t.defined() ? t.detach() : Tensor());
  }
  record_node(out, node);
  return out;
}

}  // namespace tr::models
