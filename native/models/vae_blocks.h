// vae_blocks.h: the pieces of diffusers' AutoencoderKL that the UNet does not share: the VAE's spatial
// self-attention (one head over all channels, with biases, residual) and UNetMidBlock2D (resnet, attention,
// resnet, no time embedding). Feature maps are (B, C, H, W).
#pragma once
#include <memory>
#include <vector>

#include "models/transformer2d.h"
#include "models/unet_blocks.h"

namespace tr::models {

// diffusers' Attention with norm_num_groups set, residual_connection, bias: group_norm (eps 1e-6), to_q,
// to_k, to_v, to_out.0 on the HW tokens.
struct VaeAttention : Attention {
  std::shared_ptr<GroupNorm> group_norm;
  VaeAttention(int64_t channels, int64_t groups, double eps, Init& init);
  Tensor forward(const Tensor& x) const;  // (B, C, H, W) -> (B, C, H, W)
};

struct UNetMidBlock2D : Module {
  std::vector<std::shared_ptr<VaeAttention>> attentions;
  std::vector<std::shared_ptr<ResnetBlock2D>> resnets;
  UNetMidBlock2D(int64_t channels, int64_t groups, double eps, Init& init);
  Tensor forward(const Tensor& x, bool checkpointing) const;
};

}  // namespace tr::models
