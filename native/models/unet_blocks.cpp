// unet_blocks.cpp: DownBlock2D, UpBlock2D, UNetMidBlock2DCrossAttn. Under checkpointing each resnet and
// each Transformer2DModel is one checkpointed unit (as diffusers' gradient_checkpointing does).
#include "models/unet_blocks.h"

namespace tr::models {

// The recompute closures hold the block itself (a shared_ptr): a graph may outlive its model handle.
Tensor run_resnet(const std::shared_ptr<ResnetBlock2D>& resnet, const Tensor& x, const Tensor& temb, bool checkpointing) {
  if (!temb.defined())
    return maybe_checkpoint(checkpointing, *resnet, [resnet](const std::vector<Tensor>& in) { return resnet->forward(in[0], Tensor()); }, {x});
  return maybe_checkpoint(checkpointing, *resnet, [resnet](const std::vector<Tensor>& in) { return resnet->forward(in[0], in[1]); }, {x, temb});
}

Tensor run_transformer(const std::shared_ptr<Transformer2DModel>& attn, const Tensor& x, const Tensor& ctx, bool checkpointing) {
  return maybe_checkpoint(checkpointing, *attn, [attn](const std::vector<Tensor>& in) { return attn->forward(in[0], in[1]); }, {x, ctx});
}

DownBlock2D::DownBlock2D(int64_t cin, int64_t cout, int64_t layers, int64_t temb_channels, int64_t groups, double eps,
                         const LevelAttention& attn, bool add_downsample, int64_t downsample_padding, Init& init) {
  for (int64_t i = 0; i < layers; ++i) {
    std::string n = std::to_string(i);
    resnets.push_back(child("resnets." + n, std::make_shared<ResnetBlock2D>(i == 0 ? cin : cout, cout, temb_channels, groups, eps, init)));
    if (attn.heads > 0)
      attentions.push_back(child("attentions." + n, std::make_shared<Transformer2DModel>(cout, attn.heads, attn.ctx_dim, groups, attn.depth, init, attn.lora)));
  }
  if (add_downsample) downsampler = child("downsamplers.0", std::make_shared<Downsample2D>(cout, downsample_padding, init));
}

Tensor DownBlock2D::forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing, std::vector<Tensor>* skips) const {
  Tensor h = x;
  for (size_t i = 0; i < resnets.size(); ++i) {
    h = run_resnet(resnets[i], h, temb, checkpointing);  // (B, cout, H, W)
    if (!attentions.empty()) h = run_transformer(attentions[i], h, ctx, checkpointing);
    if (skips) skips->push_back(h);
  }
  if (downsampler) {
    h = downsampler->forward(h);  // (B, cout, H/2, W/2)
    if (skips) skips->push_back(h);
  }
  return h;
}

UpBlock2D::UpBlock2D(int64_t cin, int64_t cout, const std::vector<int64_t>& skip_channels, int64_t layers, int64_t temb_channels,
                     int64_t groups, double eps, const LevelAttention& attn, bool add_upsample, Init& init) {
  for (int64_t i = 0; i < layers; ++i) {
    std::string n = std::to_string(i);
    int64_t skip = skip_channels.empty() ? 0 : skip_channels[static_cast<size_t>(i)];
    resnets.push_back(child("resnets." + n, std::make_shared<ResnetBlock2D>((i == 0 ? cin : cout) + skip, cout, temb_channels, groups, eps, init)));
    if (attn.heads > 0)
      attentions.push_back(child("attentions." + n, std::make_shared<Transformer2DModel>(cout, attn.heads, attn.ctx_dim, groups, attn.depth, init, attn.lora)));
  }
  if (add_upsample) upsampler = child("upsamplers.0", std::make_shared<Upsample2D>(cout, init));
}

Tensor UpBlock2D::forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing, std::vector<Tensor>* skips) const {
  Tensor h = x;
  for (size_t i = 0; i < resnets.size(); ++i) {
    if (skips) {
      check(!skips->empty(), ErrorCode::INTERNAL, "Expected a skip connection for up block resnet ", i, " but none was left");
      h = concat({h, skips->back()}, 1);  // (B, C + C_skip, H, W)
      skips->pop_back();
    }
    h = run_resnet(resnets[i], h, temb, checkpointing);
    if (!attentions.empty()) h = run_transformer(attentions[i], h, ctx, checkpointing);
  }
  if (upsampler) h = upsampler->forward(h);  // (B, cout, 2H, 2W)
  return h;
}

UNetMidBlock2DCrossAttn::UNetMidBlock2DCrossAttn(int64_t channels, int64_t temb_channels, int64_t groups, double eps,
                                                 const LevelAttention& attn, Init& init) {
  attentions.push_back(child("attentions.0", std::make_shared<Transformer2DModel>(channels, attn.heads, attn.ctx_dim, groups, attn.depth, init, attn.lora)));
  for (int i = 0; i < 2; ++i)
    resnets.push_back(child("resnets." + std::to_string(i), std::make_shared<ResnetBlock2D>(channels, channels, temb_channels, groups, eps, init)));
}

Tensor UNetMidBlock2DCrossAttn::forward(const Tensor& x, const Tensor& temb, const Tensor& ctx, bool checkpointing) const {
  Tensor h = run_resnet(resnets[0], x, temb, checkpointing);
  h = run_transformer(attentions[0], h, ctx, checkpointing);
  return run_resnet(resnets[1], h, temb, checkpointing);
}

}  // namespace tr::models
