// vit.h: BLIP's image encoder, a timm VisionTransformer (named as BLIP's 'visual_encoder'): patch
// embedding conv, [CLS] token, learned positions, pre-norm blocks (attn.qkv / attn.proj, mlp.fc1 /
// mlp.fc2 with GELU), final LayerNorm. Images (B, 3, S, S) -> tokens (B, 1 + (S/p)^2, D), [CLS] first.
#pragma once
#include "models/module.h"

namespace tr::models {

struct VitConfig {
  int64_t image_size = 224;  // S: square input images
  int64_t patch = 16;        // p: patch side; S must be a multiple of it
  int64_t width = 768;       // D
  int64_t depth = 12;        // blocks
  int64_t heads = 12;        // D must split into heads
  int64_t mlp_hidden = 3072; // mlp_ratio * D
  double eps = 1e-6;         // timm / BLIP LayerNorm eps

  int64_t tokens() const { return (image_size / patch) * (image_size / patch) + 1; }
};

// One pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)).
struct VitBlock : Module {
  int64_t heads;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Linear> qkv, proj;  // attn.qkv (3D, D): output [q | k | v]; attn.proj (D, D)
  std::shared_ptr<Linear> fc1, fc2;   // mlp.fc1 (H, D), mlp.fc2 (D, H)
  VitBlock(const VitConfig& c, Init& init);
  Tensor forward(const Tensor& x) const;  // (B, N, D) -> (B, N, D)
};

class VisionTransformer : public Module {
 public:
  VisionTransformer(const VitConfig& c, Init& init);
  // image (B, 3, S, S) -> tokens (B, N, D), N = 1 + (S/p)^2; checkpointing recomputes each block in backward.
  Tensor forward(const Tensor& image, bool checkpointing) const;
  const VitConfig& config() const { return config_; }

 private:
  VitConfig config_;
  std::shared_ptr<Conv2d> patch_proj;  // patch_embed.proj (D, 3, p, p), stride p
  Tensor* cls_token;                   // (1, 1, D)
  Tensor* pos_embed;                   // (1, N, D)
  std::vector<std::shared_ptr<VitBlock>> blocks;
  std::shared_ptr<LayerNorm> norm;
};

}  // namespace tr::models
