// clip_encoder.h: the transformer layer HF's CLIPTextModel and CLIPVisionModel share (CLIPEncoderLayer):
// pre-norm, x + self_attn(layer_norm1(x)), x + mlp(layer_norm2(x)), with self_attn.{q,k,v,out}_proj
// and mlp.fc1 / mlp.fc2 around quick_gelu (OpenAI CLIP, SD1.5) or GELU (OpenCLIP). Tokens (B, N, D).
#pragma once
#include "models/module.h"

namespace tr::models {

enum class ClipAct { QuickGelu, Gelu };

struct ClipEncoderConfig {
  int64_t width = 768;          // D
  int64_t layers = 12;
  int64_t heads = 12;
  int64_t intermediate = 3072;  // mlp width
  ClipAct act = ClipAct::QuickGelu;
  double eps = 1e-5;            // layer_norm_eps
};

// quick_gelu(x) = x * sigmoid(1.702 x), composed from existing ops.
Tensor quick_gelu(const Tensor& x);

struct ClipEncoderLayer : Module {
  int64_t heads;
  ClipAct act;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj, fc1, fc2;
  std::shared_ptr<LayerNorm> layer_norm1, layer_norm2;
  ClipEncoderLayer(const ClipEncoderConfig& c, Init& init);
  // x (B, N, D), mask additive broadcastable to (B, heads, N, N) or undefined -> (B, N, D)
  Tensor forward(const Tensor& x, const Tensor& mask) const;
};

// The stack of layers ('encoder.layers.N'); checkpointing recomputes each layer in backward.
struct ClipEncoder : Module {
  std::vector<std::shared_ptr<ClipEncoderLayer>> layers;
  ClipEncoder(const ClipEncoderConfig& c, Init& init);
  Tensor forward(const Tensor& x, const Tensor& mask, bool checkpointing) const;
};

}  // namespace tr::models
