// transformer2d.h: diffusers' Attention (on tokens), BasicTransformerBlock and Transformer2DModel, the
// UNet's spatial transformer, with optional LoRA adapters on their linear projections. Tokens are
// (B, N, C); feature maps (B, C, H, W); text (B, M, ctx_dim).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/module.h"

namespace tr::models {

// Which projections get LoRA adapters, and their size. rank 0: none. targets name projections as
// diffusers does inside a transformer block: "to_q", "to_k", "to_v", "to_out.0" (both attentions),
// "ff.net.0.proj", "ff.net.2". `init` seeds the adapters (a stream apart from the base weights').
struct LoraSpec {
  int64_t rank = 0;
  double alpha = 0;
  std::vector<std::string> targets;
  Init* init = nullptr;
  bool wants(const std::string& projection) const;
};

// LoRA (Hu et al. 2021): delta(x) = (alpha / rank) B (A x), added to a frozen projection's output.
// Parameters "lora_A.weight" (rank, in), PyTorch's default init, and "lora_B.weight" (out, rank), zeros,
// so an attached adapter starts as the identity (peft's names and init).
struct LoraAdapter : Module {
  Tensor* A;  // (rank, in)
  Tensor* B;  // (out, rank)
  double scale;  // alpha / rank
  LoraAdapter(int64_t in, int64_t out, const LoraSpec& spec);
  Tensor forward(const Tensor& x) const;  // (..., in) -> (..., out)
};

// y = linear(x) (+ adapter(x) when the projection has one).
Tensor project(const Linear& linear, const LoraAdapter* adapter, const Tensor& x);
// An adapter for `projection` when the spec wants one, else null. Its owner registers it as a child
// named after the projection, so its parameters are "<projection>.lora_A.weight" and "....lora_B.weight".
std::shared_ptr<LoraAdapter> make_lora(const std::string& projection, int64_t in, int64_t out, const LoraSpec* spec);

// to_q, to_k, to_v (with bias: the VAE's; without: the UNet's), to_out.0 (always with bias);
// dot-product attention over `heads` heads, scaled by 1/sqrt(dim / heads).
struct Attention : Module {
  std::shared_ptr<Linear> to_q, to_k, to_v, to_out;
  std::shared_ptr<LoraAdapter> lora_q, lora_k, lora_v, lora_out;  // null without LoRA
  int64_t heads;
  Attention(int64_t dim, int64_t heads, int64_t kv_dim, bool bias, Init& init, const LoraSpec* lora = nullptr);
  // x (B, N, dim), ctx (B, M, kv_dim), or undefined for self-attention -> (B, N, dim)
  Tensor forward(const Tensor& x, const Tensor& ctx) const;
};

// Pre-LayerNorm residuals: self-attention (attn1), cross-attention to the text (attn2), GEGLU
// feed-forward (ff.net.0.proj: dim -> 2 * 4dim, ff.net.2: 4dim -> dim).
struct BasicTransformerBlock : Module {
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Attention> attn1, attn2;
  std::shared_ptr<Linear> ff_proj, ff_out;
  std::shared_ptr<LoraAdapter> lora_ff_proj, lora_ff_out;  // null without LoRA
  BasicTransformerBlock(int64_t dim, int64_t heads, int64_t ctx_dim, Init& init, const LoraSpec* lora = nullptr);
  Tensor forward(const Tensor& x, const Tensor& ctx) const;  // x (B, HW, dim), ctx (B, M, ctx_dim) -> (B, HW, dim)
};

// GroupNorm (eps 1e-6), proj_in (1x1 conv), `depth` BasicTransformerBlocks, proj_out (1x1 conv), + x.
// depth 1 is SD1.5's; SDXL's transformer_layers_per_block sets it per level.
struct Transformer2DModel : Module {
  std::shared_ptr<GroupNorm> norm;
  std::shared_ptr<Conv2d> proj_in, proj_out;
  std::vector<std::shared_ptr<BasicTransformerBlock>> transformer_blocks;
  Transformer2DModel(int64_t channels, int64_t heads, int64_t ctx_dim, int64_t groups, int64_t depth, Init& init,
                     const LoraSpec* lora = nullptr);
  Tensor forward(const Tensor& x, const Tensor& ctx) const;  // x (B, C, H, W), ctx (B, M, ctx_dim) -> (B, C, H, W)
};

}  // namespace tr::models
