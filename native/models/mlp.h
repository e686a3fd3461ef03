// mlp.h: a stack of Linear layers named "layers.{0,2,4,...}" (PyTorch Sequential numbering, with an
// activation or identity between), as the tree reward's node and leaf heads are.
#pragma once
#include "models/module.h"

namespace tr::models {

struct MlpConfig {
  std::vector<int64_t> dims;  // dims[0] -> ... -> dims.back()
  bool gelu = true;           // GELU between layers; false: identity (the released ImageReward head)
};

class Mlp : public Model {
 public:
  Mlp(const MlpConfig& c, uint64_t seed);
  Tensor forward(const Tensor& x) const;  // (..., dims[0]) -> (..., dims.back())
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "mlp"; }

 private:
  MlpConfig config_;
  std::vector<std::shared_ptr<Linear>> layers_;
};

}  // namespace tr::models
