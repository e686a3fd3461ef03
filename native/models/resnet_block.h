// resnet_block.h: diffusers' ResnetBlock2D and the resampling blocks Downsample2D / Upsample2D, shared
// by the UNet and the VAE, and maybe_checkpoint (one block run under gradient checkpointing or not).
// Feature maps are (B, C, H, W); a time embedding is (B, temb_channels).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "models/module.h"

namespace tr::models {

// norm1-SiLU-conv1 (+ time_emb_proj(SiLU(temb)) per channel), norm2-SiLU-conv2, + x (through the 1x1
// conv_shortcut when the channels change). temb_channels 0: the VAE's kind, without time_emb_proj.
struct ResnetBlock2D : Module {
  std::shared_ptr<GroupNorm> norm1, norm2;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<Linear> time_emb_proj;  // null without a time embedding
  std::shared_ptr<Conv2d> conv_shortcut;  // null when cin == cout
  ResnetBlock2D(int64_t cin, int64_t cout, int64_t temb_channels, int64_t groups, double eps, Init& init);
  // x (B, cin, H, W), temb (B, temb_channels) or undefined -> (B, cout, H, W)
  Tensor forward(const Tensor& x, const Tensor& temb) const;
};

// A 3x3 stride-2 conv named "conv". padding 1 (the UNet's), or 0 after padding the right and bottom
// edges by one (the VAE encoder's, diffusers' downsample_padding 0).
struct Downsample2D : Module {
  std::shared_ptr<Conv2d> conv;
  bool pad_right_bottom;
  Downsample2D(int64_t channels, int64_t padding, Init& init);
  Tensor forward(const Tensor& x) const;  // (B, C, H, W) -> (B, C, H/2, W/2)
};

// Nearest-neighbour 2x, then a 3x3 conv named "conv".
struct Upsample2D : Module {
  std::shared_ptr<Conv2d> conv;
  Upsample2D(int64_t channels, Init& init);
  Tensor forward(const Tensor& x) const;  // (B, C, H, W) -> (B, C, 2H, 2W)
};

// fn(inputs), under gradient checkpointing when `on` and a gradient is wanted (an input or one of
// `block`'s parameters requires one): the block's activations are then recomputed in backward.
// Every input must be defined, and fn must reach every tensor it differentiates through `inputs`.
Tensor maybe_checkpoint(bool on, const Module& block, const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                        const std::vector<Tensor>& inputs);

}  // namespace tr::models
