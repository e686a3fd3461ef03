// vae.h: AutoencoderKL (diffusers' parameter names), sized by VaeConfig. encode: image (B, in_channels, H, W)
// -> moments (B, 2 * latent_channels, H / 2^(levels-1), W / 2^(levels-1)) = [mean, logvar] of the posterior;
// decode: unscaled latents (B, latent_channels, h, w) (divide by scaling_factor first) -> image
// (B, in_channels, h * 2^(levels-1), w * 2^(levels-1)), about [-1, 1]. Both differentiable.
#pragma once
#include <memory>
#include <vector>

#include "models/vae_blocks.h"

namespace tr::models {

struct VaeConfig {
  std::vector<int64_t> block_out_channels;  // per level, shallowest first (the decoder runs them reversed)
  int64_t layers_per_block = 2;             // encoder resnets per level; the decoder has one more
  int64_t norm_num_groups = 32;
  int64_t in_channels = 3;
  int64_t latent_channels = 4;
};

// conv_in, DownEncoderBlock2D levels, mid block, conv_norm_out, SiLU, conv_out -> 2 * latent_channels.
struct Encoder : Module {
  std::shared_ptr<Conv2d> conv_in, conv_out;
  std::vector<std::shared_ptr<DownBlock2D>> down_blocks;
  std::shared_ptr<UNetMidBlock2D> mid_block;
  std::shared_ptr<GroupNorm> conv_norm_out;
  Encoder(const VaeConfig& c, Init& init);
  Tensor forward(const Tensor& x, bool checkpointing) const;
};

// conv_in, mid block, UpDecoderBlock2D levels (deepest first, layers_per_block + 1 resnets), conv_norm_out,
// SiLU, conv_out -> in_channels.
struct Decoder : Module {
  std::shared_ptr<Conv2d> conv_in, conv_out;
  std::shared_ptr<UNetMidBlock2D> mid_block;
  std::vector<std::shared_ptr<UpBlock2D>> up_blocks;
  std::shared_ptr<GroupNorm> conv_norm_out;
  Decoder(const VaeConfig& c, Init& init);
  Tensor forward(const Tensor& z, bool checkpointing) const;
};

class AutoencoderKL : public Model {
 public:
  AutoencoderKL(const VaeConfig& c, uint64_t seed);
  Tensor encode(const Tensor& x, bool checkpointing) const;  // -> moments
  Tensor decode(const Tensor& z, bool checkpointing) const;  // unscaled latents -> image
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "vae"; }

 private:
  VaeConfig config_;
  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Decoder> decoder;
  std::shared_ptr<Conv2d> quant_conv, post_quant_conv;
};

}  // namespace tr::models
