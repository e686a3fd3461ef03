// unet_blocks.h: the levels of diffusers' unet_2d_blocks.py that the UNet and the VAE share.
// DownBlock2D covers CrossAttnDownBlock2D (with attentions), DownBlock2D and DownEncoderBlock2D (no time
// embedding, downsample padding 0); UpBlock2D covers CrossAttnUpBlock2D, UpBlock2D (a skip concatenated
// before each resnet) and UpDecoderBlock2D (no skips); UNetMidBlock2DCrossAttn is the UNet's mid block.
// Feature maps (B, C, H, W); temb (B, temb_channels) or undefined; ctx (B, M, ctx_dim) or undefined.
#pragma once
#include <memory>
#include <vector>

#include "models/resnet_block.h"
#include "models/transformer2d.h"

namespace tr::models {

// What a level's attention looks like: none (heads 0), or a Transformer2DModel per resnet.
struct LevelAttention {
  int64_t heads = 0;           // 0: no attention at this level
  int64_t ctx_dim = 0;         // cross_attention_dim
  int64_t depth = 1;           // transformer blocks per Transformer2DModel
  const LoraSpec* lora = nullptr;  // LoRA adapters on the transformers' projections, or none
};

struct DownBlock2D : Module {
  std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
  std::vector<std::shared_ptr<Transformer2DModel>> attentions;  // empty without attention
  std::shared_ptr<Downsample2D> downsampler;                     // null on the deepest level
  DownBlock2D(int64_t cin, int64_t cout, int64_t layers, int64_t temb_channels, int64_t groups, double eps,
              const LevelAttention& attn, bool add_downsample, int64_t downsample_padding, Init& init);
  // x (B, cin, H, W) -> (B, cout, H', W'); appends to `skips` each resnet's (or attention's) output and the
  // downsampler's, as the UNet's up path consumes them.
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing, std::vector<Tensor>* skips) const;
};

struct UpBlock2D : Module {
  std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
  std::vector<std::shared_ptr<Transformer2DModel>> attentions;
  std::shared_ptr<Upsample2D> upsampler;  // null on the shallowest level
  // skip_channels: per resnet, the channels of the skip concatenated before it (empty: no skips).
  UpBlock2D(int64_t cin, int64_t cout, const std::vector<int64_t>& skip_channels, int64_t layers, int64_t temb_channels,
            int64_t groups, double eps, const LevelAttention& attn, bool add_upsample, Init& init);
  // x (B, cin, H, W) -> (B, cout, H', W'); pops one skip from the end of `skips` per resnet when it has skips.
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing, std::vector<Tensor>* skips) const;
};

// resnets.0, attentions.0 (a Transformer2DModel), resnets.1.
struct UNetMidBlock2DCrossAttn : Module {
  std::vector<std::shared_ptr<Transformer2DModel>> attentions;
  std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
  UNetMidBlock2DCrossAttn(int64_t channels, int64_t temb_channels, int64_t groups, double eps, const LevelAttention& attn, Init& init);
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing) const;
};

// One resnet (maybe checkpointed): temb may be undefined (the VAE's blocks).
Tensor run_resnet(const std::shared_ptr<ResnetBlock2D>& resnet, const Tensor& x, const Tensor& temb, bool checkpointing);
// One Transformer2DModel (maybe checkpointed).
Tensor run_transformer(const std::shared_ptr<Transformer2DModel>& attn, const Tensor& x, const Tensor& ctx, bool checkpointing);

}  // namespace tr::models
