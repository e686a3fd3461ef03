// unet.h: UNet2DConditionModel in Stable Diffusion 1.5's topology (diffusers' parameter names), sized by
// UNetConfig. forward: sample (B, in_channels, h, w), timestep (B) float, encoder_hidden_states
// (B, M, cross_attention_dim) -> noise prediction (B, out_channels, h, w); h and w divisible by 2^(levels-1).
// With config.lora (rank > 0), every transformer projection it names carries a LoRA adapter
// ("<...>.attn1.to_q.lora_A.weight", ...), seeded apart from the base weights, so the base weights of a
// seed are the same with or without adapters.
//
// Room for SDXL (not built yet): its UNet adds (a) transformer_layers_per_block, here already
// transformer_depth per level; (b) use_linear_projection (proj_in / proj_out as Linear on tokens), a flag
// on Transformer2DModel; (c) addition_embed_type "text_time": add_time_proj (sinusoidal embedding of the six
// size/crop ids) and add_embedding.linear_1/linear_2 on [pooled text, time ids], added to the time embedding
// in step 1 below, which would become one more input of forward.
#pragma once
#include <memory>
#include <vector>

#include "models/unet_blocks.h"

namespace tr::models {

struct UNetConfig {
  std::vector<int64_t> block_out_channels;  // per level, shallowest first
  int64_t layers_per_block = 2;
  std::vector<bool> cross_attn;             // per level: CrossAttnDownBlock2D / CrossAttnUpBlock2D
  std::vector<int64_t> heads;               // per level (the mid block uses the deepest level's)
  std::vector<int64_t> transformer_depth;   // per level, BasicTransformerBlocks per Transformer2DModel (SD1.5: 1)
  int64_t cross_attention_dim = 768;
  int64_t norm_num_groups = 32;
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  double norm_eps = 1e-5;
  LoraSpec lora;                            // rank 0: no adapters (its init is set by the model)
};

class UNet2DConditionModel : public Model {
 public:
  UNet2DConditionModel(const UNetConfig& c, uint64_t seed);
  Tensor forward(const Tensor& sample, const Tensor& timestep, const Tensor& encoder_hidden_states, bool checkpointing) const;
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "unet"; }
  const UNetConfig& config() const { return config_; }

 private:
  UNetConfig config_;
  std::shared_ptr<Linear> time_linear_1, time_linear_2;
  std::shared_ptr<Conv2d> conv_in;
  std::vector<std::shared_ptr<DownBlock2D>> down_blocks;
  std::shared_ptr<UNetMidBlock2DCrossAttn> mid_block;
  std::vector<std::shared_ptr<UpBlock2D>> up_blocks;  // up_blocks.0 mirrors the deepest level
  std::shared_ptr<GroupNorm> conv_norm_out;
  std::shared_ptr<Conv2d> conv_out;
};

}  // namespace tr::models
