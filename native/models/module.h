// module.h: Module, a tree of named parameters and submodules (named as diffusers / BLIP / CLIP name
// them: "down_blocks.0.resnets.1.conv1.weight"), and Model, a Module a user calls by method name.
// Parameters are float32 tensors with requires_grad set; loading weights copies into them in place.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/tensor.h"

namespace tr::models {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Seeded parameter initialisation (PyTorch's defaults): a counter-based stream, so the same seed
// gives the same weights on every machine.
class Init {
 public:
  explicit Init(uint64_t seed) : seed_(seed) {}
  Tensor uniform(const Shape& shape, double bound);  // U(-bound, bound)
  Tensor normal(const Shape& shape, double std);
 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

class Module {
 public:
  virtual ~Module() = default;
  // Every parameter under this module, with dotted names after `prefix`.
  void named_parameters(const std::string& prefix, NamedTensors& out) const;
  NamedTensors parameters() const;
  int64_t num_parameters() const;

 protected:
  // Registers a parameter (made a leaf that requires grad) and returns the stored handle.
  Tensor& param(const std::string& name, Tensor t);
  // Registers a child module under `name` (which may contain dots: "to_out.0").
  template <typename M>
  std::shared_ptr<M> child(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// A model the binding can call: method names are the model's public entry points
// ("forward", "encode", "decode", ...). Unknown methods throw INVALID_ARGUMENT.
struct CallOptions {
  bool checkpointing = false;  // recompute each block in backward instead of keeping its activations
};

// Moves every parameter of `module` (and its .grad) to `device` in place: each parameter's TensorImpl
// gets a copy of its storage on `device`, so every handle to it (the layers' pointers, the JS tensors
// from modelParameters, optimizers) sees the move. Parameters that share a storage keep sharing one.
// All copies are made before any is swapped in: a failure (CUDA_UNAVAILABLE, OUT_OF_MEMORY) leaves
// every parameter where it was. Graphs recorded before the move still hold the old activations: move
// between steps, not between a forward and its backward.
void move_parameters(const Module& module, Device device);

class Model : public Module {
 public:
  virtual std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) = 0;
  virtual std::string kind() const = 0;
};

// ---- layers ----
struct Linear : Module {
  Tensor* weight;  // (out, in)
  Tensor* bias;    // (out) or null
  Linear(int64_t in, int64_t out, bool with_bias, Init& init);
  Tensor forward(const Tensor& x) const;  // (..., in) -> (..., out)
};

struct Conv2d : Module {
  Tensor* weight;  // (out, in/groups, k, k)
  Tensor* bias;    // (out) or null
  int64_t stride, padding, groups;
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool with_bias, Init& init, int64_t groups = 1);
  Tensor forward(const Tensor& x) const;  // (N, in, H, W) -> (N, out, H', W')
};

struct GroupNorm : Module {
  Tensor* weight;  // (C)
  Tensor* bias;    // (C)
  int64_t groups;
  double eps;
  GroupNorm(int64_t groups, int64_t channels, double eps);
  Tensor forward(const Tensor& x) const;
  Tensor forward_silu(const Tensor& x) const;  // silu(forward(x)) in one pass (group_norm_silu)
};

struct LayerNorm : Module {
  Tensor* weight;  // (C)
  Tensor* bias;    // (C)
  double eps;
  LayerNorm(int64_t channels, double eps);
  Tensor forward(const Tensor& x) const;  // over the last dimension
};

struct Embedding : Module {
  Tensor* weight;  // (V, D)
  Embedding(int64_t vocab, int64_t dim, Init& init);
  Tensor forward(const Tensor& ids) const;  // int32 (...) -> (..., D)
};

// Multi-head attention on token tensors: q (B, Nq, C), k and v (B, Nk, C), C = heads * d;
// mask additive, broadcastable to (B, heads, Nq, Nk), or undefined. -> (B, Nq, C).
Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask);

// Sinusoidal timestep embedding (diffusers: flip_sin_to_cos, freq_shift 0): t (B) float -> (B, dim) = [cos, sin], on t's device.
Tensor timestep_embedding(const Tensor& t, int64_t dim);

// Gradient checkpointing: runs fn without keeping activations; backward recomputes it with grad on
// and sends gradients to `inputs` (and, during the recompute, to the parameters fn uses).
Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs);

}  // namespace tr::models
