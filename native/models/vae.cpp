// vae.cpp: AutoencoderKL's encoder, decoder and the two 1x1 quantisation convs (diffusers' vae.py,
// autoencoder_kl.py). All norms use eps 1e-6, as diffusers' VAE does.
#include "models/vae.h"

namespace tr::models {

namespace {
constexpr double kVaeEps = 1e-6;

void check_config(const VaeConfig& c) {
  check(!c.block_out_channels.empty(), ErrorCode::INVALID_ARGUMENT, "Expected at least one level for config.block_out_channels of a vae but received 0");
  check(c.layers_per_block >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.layers_per_block but received ", c.layers_per_block);
  check(c.norm_num_groups >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.norm_num_groups but received ", c.norm_num_groups);
  for (size_t i = 0; i < c.block_out_channels.size(); ++i)
    check(c.block_out_channels[i] >= 1 && c.block_out_channels[i] % c.norm_num_groups == 0, ErrorCode::INVALID_ARGUMENT,
          "Expected channels divisible by config.norm_num_groups (", c.norm_num_groups, ") for config.block_out_channels[", i,
          "] but received ", c.block_out_channels[i]);
  check(c.in_channels >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.in_channels but received ", c.in_channels);
  check(c.latent_channels >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.latent_channels but received ", c.latent_channels);
}
}  // namespace

Encoder::Encoder(const VaeConfig& c, Init& init) {
  const auto& ch = c.block_out_channels;
  size_t levels = ch.size();
  conv_in = child("conv_in", std::make_shared<Conv2d>(c.in_channels, ch[0], 3, 1, 1, true, init));
  for (size_t i = 0; i < levels; ++i)
    down_blocks.push_back(child("down_blocks." + std::to_string(i),
                                std::make_shared<DownBlock2D>(ch[i == 0 ? 0 : i - 1], ch[i], c.layers_per_block, 0, c.norm_num_groups, kVaeEps,
                                                              LevelAttention{}, i + 1 < levels, 0, init)));
  mid_block = child("mid_block", std::make_shared<UNetMidBlock2D>(ch.back(), c.norm_num_groups, kVaeEps, init));
  conv_norm_out = child("conv_norm_out", std::make_shared<GroupNorm>(c.norm_num_groups, ch.back(), kVaeEps));
  conv_out = child("conv_out", std::make_shared<Conv2d>(ch.back(), 2 * c.latent_channels, 3, 1, 1, true, init));
}

Tensor Encoder::forward(const Tensor& x, bool checkpointing) const {
  Tensor h = conv_in->forward(x);  // (B, C0, H, W)
  for (const auto& block : down_blocks) h = block->forward(h, Tensor(), Tensor(), checkpointing, nullptr);
  h = mid_block->forward(h, checkpointing);  // (B, C_last, H / 2^(levels-1), W / 2^(levels-1))
  return conv_out->forward(conv_norm_out->forward_silu(h));
}

Decoder::Decoder(const VaeConfig& c, Init& init) {
  std::vector<int64_t> ch(c.block_out_channels.rbegin(), c.block_out_channels.rend());  // deepest first
  size_t levels = ch.size();
  conv_in = child("conv_in", std::make_shared<Conv2d>(c.latent_channels, ch[0], 3, 1, 1, true, init));
  mid_block = child("mid_block", std::make_shared<UNetMidBlock2D>(ch[0], c.norm_num_groups, kVaeEps, init));
  for (size_t i = 0; i < levels; ++i)
    up_blocks.push_back(child("up_blocks." + std::to_string(i),
                              std::make_shared<UpBlock2D>(ch[i == 0 ? 0 : i - 1], ch[i], std::vector<int64_t>{}, c.layers_per_block + 1, 0,
                                                          c.norm_num_groups, kVaeEps, LevelAttention{}, i + 1 < levels, init)));
  conv_norm_out = child("conv_norm_out", std::make_shared<GroupNorm>(c.norm_num_groups, ch.back(), kVaeEps));
  conv_out = child("conv_out", std::make_shared<Conv2d>(ch.back(), c.in_channels, 3, 1, 1, true, init));
}

Tensor Decoder::forward(const Tensor& z, bool checkpointing) const {
  Tensor h = mid_block->forward(conv_in->forward(z), checkpointing);  // (B, C_last, h, w)
  for (const auto& block : up_blocks) h = block->forward(h, Tensor(), Tensor(), checkpointing, nullptr);
  return conv_out->forward(conv_norm_out->forward_silu(h));  // (B, in_channels, h * 2^(levels-1), w * 2^(levels-1))
}

AutoencoderKL::AutoencoderKL(const VaeConfig& c, uint64_t seed) : config_(c) {
  check_config(c);
  Init init(seed);
  int64_t z = c.latent_channels;
  encoder = child("encoder", std::make_shared<Encoder>(c, init));
  decoder = child("decoder", std::make_shared<Decoder>(c, init));
  quant_conv = child("quant_conv", std::make_shared<Conv2d>(2 * z, 2 * z, 1, 1, 0, true, init));
  post_quant_conv = child("post_quant_conv", std::make_shared<Conv2d>(z, z, 1, 1, 0, true, init));
}

Tensor AutoencoderKL::encode(const Tensor& x, bool checkpointing) const { return quant_conv->forward(encoder->forward(x, checkpointing)); }

Tensor AutoencoderKL::decode(const Tensor& z, bool checkpointing) const { return decoder->forward(post_quant_conv->forward(z), checkpointing); }

std::vector<Tensor> AutoencoderKL::call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) {
  check(method == "encode" || method == "decode", ErrorCode::INVALID_ARGUMENT, "Expected method \"encode\" or \"decode\" for a vae but received \"", method, "\"");
  check(inputs.size() == 1 && inputs[0].defined(), ErrorCode::INVALID_ARGUMENT, "Expected one input tensor for vae.", method, " but received ", inputs.size());
  const Tensor& x = inputs[0];
  int64_t down = int64_t{1} << (config_.block_out_channels.size() - 1);
  if (method == "encode") {
    check(x.rank() == 4 && x.size(1) == config_.in_channels && x.size(2) % down == 0 && x.size(3) % down == 0, ErrorCode::SHAPE_MISMATCH,
          "Expected shape (B, ", config_.in_channels, ", H, W) with H and W divisible by ", down, " for image but received ", shape_str(x.shape()));
    return {encode(x, options.checkpointing)};
  }
  check(x.rank() == 4 && x.size(1) == config_.latent_channels, ErrorCode::SHAPE_MISMATCH, "Expected shape (B, ", config_.latent_channels,
        ", h, w) for latents but received ", shape_str(x.shape()));
  return {decode(x, options.checkpointing)};
}

}  // namespace tr::models
