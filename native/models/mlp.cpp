// mlp.cpp: forward = linear (gelu linear)*.
#include "models/mlp.h"

namespace tr::models {

Mlp::Mlp(const MlpConfig& c, uint64_t seed) : config_(c) {
  check(c.dims.size() >= 2, ErrorCode::INVALID_ARGUMENT, "Expected at least two sizes for config.dims of an mlp but received ", c.dims.size());
  Init init(seed);
  for (size_t i = 0; i + 1 < c.dims.size(); ++i)
    layers_.push_back(child("layers." + std::to_string(2 * i), std::make_shared<Linear>(c.dims[i], c.dims[i + 1], true, init)));
}

Tensor Mlp::forward(const Tensor& x) const {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (config_.gelu && i + 1 < layers_.size()) h = gelu(h, false);
  }
  return h;
}

std::vector<Tensor> Mlp::call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions&) {
  check(method == "forward", ErrorCode::INVALID_ARGUMENT, "Expected method \"forward\" for an mlp but received \"", method, "\"");
  check(inputs.size() == 1 && inputs[0].defined(), ErrorCode::INVALID_ARGUMENT, "Expected one input tensor for mlp.forward");
  return {forward(inputs[0])};
}

}  // namespace tr::models
