// resnet_block.cpp: ResnetBlock2D, Downsample2D, Upsample2D (diffusers' resnet.py, downsampling.py,
// upsampling.py) as compositions of ops; their backward is the ops' backward.
#include "models/resnet_block.h"

namespace tr::models {

ResnetBlock2D::ResnetBlock2D(int64_t cin, int64_t cout, int64_t temb_channels, int64_t groups, double eps, Init& init) {
  norm1 = child("norm1", std::make_shared<GroupNorm>(groups, cin, eps));
  conv1 = child("conv1", std::make_shared<Conv2d>(cin, cout, 3, 1, 1, true, init));
  if (temb_channels > 0) time_emb_proj = child("time_emb_proj", std::make_shared<Linear>(temb_channels, cout, true, init));
  norm2 = child("norm2", std::make_shared<GroupNorm>(groups, cout, eps));
  conv2 = child("conv2", std::make_shared<Conv2d>(cout, cout, 3, 1, 1, true, init));
  if (cin != cout) conv_shortcut = child("conv_shortcut", std::make_shared<Conv2d>(cin, cout, 1, 1, 0, true, init));
}

Tensor ResnetBlock2D::forward(const Tensor& x, const Tensor& temb) const {
  Tensor h = conv1->forward(norm1->forward_silu(x));  // (B, cout, H, W)
  if (time_emb_proj && temb.defined()) {
    Tensor t = time_emb_proj->forward(silu(temb));  // (B, cout)
    h = add(h, reshape(t, {t.size(0), t.size(1), 1, 1}));
  }
  h = conv2->forward(norm2->forward_silu(h));
  Tensor shortcut = conv_shortcut ? conv_shortcut->forward(x) : x;
  return add(shortcut, h);
}

Downsample2D::Downsample2D(int64_t channels, int64_t padding, Init& init) : pad_right_bottom(padding == 0) {
  conv = child("conv", std::make_shared<Conv2d>(channels, channels, 3, 2, padding, true, init));
}

Tensor Downsample2D::forward(const Tensor& x) const {
  if (!pad_right_bottom) return conv->forward(x);
  // F.pad(x, (0, 1, 0, 1)): one zero column on the right, then one zero row at the bottom.
  int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor right = zeros({B, C, H, 1}, x.dtype(), x.device());
  Tensor padded = concat({x, right}, 3);  // (B, C, H, W+1)
  Tensor bottom = zeros({B, C, 1, W + 1}, x.dtype(), x.device());
  padded = concat({padded, bottom}, 2);  // (B, C, H+1, W+1)
  return conv->forward(padded);
}

Upsample2D::Upsample2D(int64_t channels, Init& init) {
  conv = child("conv", std::make_shared<Conv2d>(channels, channels, 3, 1, 1, true, init));
}

Tensor Upsample2D::forward(const Tensor& x) const { return conv->forward(upsample_nearest2x(x)); }

Tensor maybe_checkpoint(bool on, const Module& block, const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                        const std::vector<Tensor>& inputs) {
  if (!on || !grad_enabled()) return fn(inputs);
  bool wanted = needs_grad(inputs);
  if (!wanted)
    for (const auto& [name, p] : block.parameters())
      if (p.requires_grad()) {
        wanted = true;
        break;
      }
  return wanted ? checkpoint(fn, inputs) : fn(inputs);
}

}  // namespace tr::models
