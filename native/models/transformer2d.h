// transformer2d.h: diffusers' Attention (on tokens), BasicTransformerBlock and Transformer2DModel, the
// UNet's spatial transformer. Tokens are (B, N, C); feature maps (B, C, H, W); text (B, M, ctx_dim).
#pragma once
#include <memory>
#include <vector>

#include "models/module.h"

namespace tr::models {

// to_q, to_k, to_v (with bias: the VAE's; without: the UNet's), to_out.0 (always with bias);
// dot-product attention over `heads` heads, scaled by 1/sqrt(dim / heads).
struct Attention : Module {
  std::shared_ptr<Linear> to_q, to_k, to_v, to_out;
  int64_t heads;
  Attention(int64_t dim, int64_t heads, int64_t kv_dim, bool bias, Init& init);
  // x (B, N, dim), ctx (B, M, kv_dim), or undefined for self-attention -> (B, N, dim)
  Tensor forward(const Tensor& x, const Tensor& ctx) const;
};

// Pre-LayerNorm residuals: self-attention (attn1), cross-attention to the text (attn2), GEGLU
// feed-forward (ff.net.0.proj: dim -> 2 * 4dim, ff.net.2: 4dim -> dim).
struct BasicTransformerBlock : Module {
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Attention> attn1, attn2;
  std::shared_ptr<Linear> ff_proj, ff_out;
  BasicTransformerBlock(int64_t dim, int64_t heads, int64_t ctx_dim, Init& init);
  Tensor forward(const Tensor& x, const Tensor& ctx) const;  // x (B, HW, dim), ctx (B, M, ctx_dim) -> (B, HW, dim)
};

// GroupNorm (eps 1e-6), proj_in (1x1 conv), `depth` BasicTransformerBlocks, proj_out (1x1 conv), + x.
// depth 1 is SD1.5's; SDXL's transformer_layers_per_block sets it per level.
struct Transformer2DModel : Module {
  std::shared_ptr<GroupNorm> norm;
  std::shared_ptr<Conv2d> proj_in, proj_out;
  std::vector<std::shared_ptr<BasicTransformerBlock>> transformer_blocks;
  Transformer2DModel(int64_t channels, int64_t heads, int64_t ctx_dim, int64_t groups, int64_t depth, Init& init);
  Tensor forward(const Tensor& x, const Tensor& ctx) const;  // x (B, C, H, W), ctx (B, M, ctx_dim) -> (B, C, H, W)
};

}  // namespace tr::models
