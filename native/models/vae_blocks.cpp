// vae_blocks.cpp: VaeAttention and the VAE's UNetMidBlock2D.
#include "models/vae_blocks.h"

namespace tr::models {

VaeAttention::VaeAttention(int64_t channels, int64_t groups, double eps, Init& init) : Attention(channels, 1, channels, true, init) {
  group_norm = child("group_norm", std::make_shared<GroupNorm>(groups, channels, eps));
}

Tensor VaeAttention::forward(const Tensor& x) const {
  int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor h = transpose(reshape(group_norm->forward(x), {B, C, H * W}), 1, 2);  // (B, HW, C)
  h = Attention::forward(h, Tensor());                                          // (B, HW, C)
  h = reshape(contiguous_op(transpose(h, 1, 2)), {B, C, H, W});
  return add(x, h);
}

UNetMidBlock2D::UNetMidBlock2D(int64_t channels, int64_t groups, double eps, Init& init) {
  attentions.push_back(child("attentions.0", std::make_shared<VaeAttention>(channels, groups, eps, init)));
  for (int i = 0; i < 2; ++i)
    resnets.push_back(child("resnets." + std::to_string(i), std::make_shared<ResnetBlock2D>(channels, channels, 0, groups, eps, init)));
}

Tensor UNetMidBlock2D::forward(const Tensor& x, bool checkpointing) const {
  Tensor h = run_resnet(resnets[0], x, Tensor(), checkpointing);
  auto attn = attentions[0];
  h = maybe_checkpoint(checkpointing, *attn, [attn](const std::vector<Tensor>& in) { return attn->forward(in[0]); }, {h});
  return run_resnet(resnets[1], h, Tensor(), checkpointing);
}

}  // namespace tr::models
