// vit.cpp: BLIP's ViT: patchify, prepend [CLS], add positions, blocks, norm.
#include "models/vit.h"

namespace tr::models {

VitBlock::VitBlock(const VitConfig& c, Init& init) : heads(c.heads) {
  norm1 = child("norm1", std::make_shared<LayerNorm>(c.width, c.eps));
  qkv = child("attn.qkv", std::make_shared<Linear>(c.width, 3 * c.width, true, init));
  proj = child("attn.proj", std::make_shared<Linear>(c.width, c.width, true, init));
  norm2 = child("norm2", std::make_shared<LayerNorm>(c.width, c.eps));
  fc1 = child("mlp.fc1", std::make_shared<Linear>(c.width, c.mlp_hidden, true, init));
  fc2 = child("mlp.fc2", std::make_shared<Linear>(c.mlp_hidden, c.width, true, init));
}

Tensor VitBlock::forward(const Tensor& x) const {
  int64_t D = x.shape()[2];
  // 1. attention: qkv's output is [q | k | v], each heads-major (timm's reshape(B, N, 3, H, d))
  Tensor qkv_out = qkv->forward(norm1->forward(x));  // (B, N, 3D)
  Tensor q = slice(qkv_out, 2, 0, D, 1), k = slice(qkv_out, 2, D, 2 * D, 1), v = slice(qkv_out, 2, 2 * D, 3 * D, 1);
  Tensor h = add(x, proj->forward(multi_head_attention(q, k, v, heads, Tensor())));  // (B, N, D)
  // 2. MLP
  return add(h, fc2->forward(gelu(fc1->forward(norm2->forward(h)), false)));
}

VisionTransformer::VisionTransformer(const VitConfig& c, Init& init) : config_(c) {
  check(c.patch > 0 && c.image_size % c.patch == 0, ErrorCode::INVALID_ARGUMENT, "Expected an image_size that is a multiple of the patch (",
        c.patch, ") for vit but received ", c.image_size);
  check(c.heads > 0 && c.width % c.heads == 0, ErrorCode::INVALID_ARGUMENT, "Expected a width divisible by heads (", c.heads,
        ") for vit but received ", c.width);
  patch_proj = child("patch_embed.proj", std::make_shared<Conv2d>(3, c.width, c.patch, c.patch, 0, true, init));
  cls_token = &param("cls_token", init.normal({1, 1, c.width}, 0.02));
  pos_embed = &param("pos_embed", init.normal({1, c.tokens(), c.width}, 0.02));
  for (int64_t i = 0; i < c.depth; ++i) blocks.push_back(child("blocks." + std::to_string(i), std::make_shared<VitBlock>(c, init)));
  norm = child("norm", std::make_shared<LayerNorm>(c.width, c.eps));
}

Tensor VisionTransformer::forward(const Tensor& image, bool checkpointing) const {
  int64_t B = image.shape()[0], D = config_.width;
  // 1. patches: (B, D, S/p, S/p) -> (B, (S/p)^2, D)
  Tensor patches = transpose(reshape(patch_proj->forward(image), {B, D, -1}), 1, 2);
  // 2. [CLS] first, then learned positions
  Tensor x = add(concat({expand(*cls_token, {B, 1, D}), patches}, 1), *pos_embed);  // (B, N, D)
  // 3. blocks
  for (const auto& block : blocks) {
    if (checkpointing) x = checkpoint([block](const std::vector<Tensor>& in) { return block->forward(in[0]); }, {x});
    else x = block->forward(x);
  }
  // 4. final norm
  return norm->forward(x);
}

}  // namespace tr::models
