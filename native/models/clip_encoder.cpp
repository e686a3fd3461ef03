// clip_encoder.cpp: CLIP's pre-norm transformer layers.
#include "models/clip_encoder.h"

namespace tr::models {

Tensor quick_gelu(const Tensor& x) { return mul(x, sigmoid(mul_scalar(x, 1.702))); }

ClipEncoderLayer::ClipEncoderLayer(const ClipEncoderConfig& c, Init& init) : heads(c.heads), act(c.act) {
  k_proj = child("self_attn.k_proj", std::make_shared<Linear>(c.width, c.width, true, init));
  v_proj = child("self_attn.v_proj", std::make_shared<Linear>(c.width, c.width, true, init));
  q_proj = child("self_attn.q_proj", std::make_shared<Linear>(c.width, c.width, true, init));
  out_proj = child("self_attn.out_proj", std::make_shared<Linear>(c.width, c.width, true, init));
  layer_norm1 = child("layer_norm1", std::make_shared<LayerNorm>(c.width, c.eps));
  fc1 = child("mlp.fc1", std::make_shared<Linear>(c.width, c.intermediate, true, init));
  fc2 = child("mlp.fc2", std::make_shared<Linear>(c.intermediate, c.width, true, init));
  layer_norm2 = child("layer_norm2", std::make_shared<LayerNorm>(c.width, c.eps));
}

Tensor ClipEncoderLayer::forward(const Tensor& x, const Tensor& mask) const {
  // 1. self-attention (scaled by head_dim^-0.5 inside the attention op)
  Tensor h = layer_norm1->forward(x);
  h = add(x, out_proj->forward(multi_head_attention(q_proj->forward(h), k_proj->forward(h), v_proj->forward(h), heads, mask)));
  // 2. MLP
  Tensor m = fc1->forward(layer_norm2->forward(h));
  m = act == ClipAct::QuickGelu ? quick_gelu(m) : gelu(m, false);
  return add(h, fc2->forward(m));
}

ClipEncoder::ClipEncoder(const ClipEncoderConfig& c, Init& init) {
  check(c.heads > 0 && c.width % c.heads == 0, ErrorCode::INVALID_ARGUMENT, "Expected a width divisible by heads (", c.heads,
        ") for clip but received ", c.width);
  for (int64_t i = 0; i < c.layers; ++i) layers.push_back(child("layers." + std::to_string(i), std::make_shared<ClipEncoderLayer>(c, init)));
}

Tensor ClipEncoder::forward(const Tensor& x_in, const Tensor& mask, bool checkpointing) const {
  Tensor x = x_in;
  for (const auto& layer : layers) {
    if (checkpointing && mask.defined())
      x = checkpoint([layer](const std::vector<Tensor>& in) { return layer->forward(in[0], in[1]); }, {x, mask});
    else if (checkpointing)
      x = checkpoint([layer](const std::vector<Tensor>& in) { return layer->forward(in[0], Tensor()); }, {x});
    else x = layer->forward(x, mask);
  }
  return x;
}

}  // namespace tr::models
