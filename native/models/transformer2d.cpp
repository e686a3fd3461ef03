// transformer2d.cpp: Attention, BasicTransformerBlock, Transformer2DModel (diffusers' attention_processor.py,
// attention.py, transformer_2d.py) as compositions of ops.
#include "models/transformer2d.h"

namespace tr::models {

Attention::Attention(int64_t dim, int64_t h, int64_t kv_dim, bool bias, Init& init) : heads(h) {
  to_q = child("to_q", std::make_shared<Linear>(dim, dim, bias, init));
  to_k = child("to_k", std::make_shared<Linear>(kv_dim, dim, bias, init));
  to_v = child("to_v", std::make_shared<Linear>(kv_dim, dim, bias, init));
  to_out = child("to_out.0", std::make_shared<Linear>(dim, dim, true, init));
}

Tensor Attention::forward(const Tensor& x, const Tensor& ctx) const {
  const Tensor& kv = ctx.defined() ? ctx : x;
  Tensor q = to_q->forward(x), k = to_k->forward(kv), v = to_v->forward(kv);  // (B, N, dim), (B, M, dim) x2
  return to_out->forward(multi_head_attention(q, k, v, heads, Tensor()));     // (B, N, dim)
}

BasicTransformerBlock::BasicTransformerBlock(int64_t dim, int64_t heads, int64_t ctx_dim, Init& init) {
  norm1 = child("norm1", std::make_shared<LayerNorm>(dim, 1e-5));
  attn1 = child("attn1", std::make_shared<Attention>(dim, heads, dim, false, init));
  norm2 = child("norm2", std::make_shared<LayerNorm>(dim, 1e-5));
  attn2 = child("attn2", std::make_shared<Attention>(dim, heads, ctx_dim, false, init));
  norm3 = child("norm3", std::make_shared<LayerNorm>(dim, 1e-5));
  ff_proj = child("ff.net.0.proj", std::make_shared<Linear>(dim, 2 * 4 * dim, true, init));
  ff_out = child("ff.net.2", std::make_shared<Linear>(4 * dim, dim, true, init));
}

Tensor BasicTransformerBlock::forward(const Tensor& x, const Tensor& ctx) const {
  Tensor h = add(x, attn1->forward(norm1->forward(x), Tensor()));  // (B, HW, dim)
  h = add(h, attn2->forward(norm2->forward(h), ctx));
  Tensor ff = geglu(ff_proj->forward(norm3->forward(h)));  // (B, HW, 4dim): hidden * gelu(gate)
  return add(h, ff_out->forward(ff));
}

Transformer2DModel::Transformer2DModel(int64_t channels, int64_t heads, int64_t ctx_dim, int64_t groups, int64_t depth, Init& init) {
  norm = child("norm", std::make_shared<GroupNorm>(groups, channels, 1e-6));
  proj_in = child("proj_in", std::make_shared<Conv2d>(channels, channels, 1, 1, 0, true, init));
  for (int64_t i = 0; i < depth; ++i)
    transformer_blocks.push_back(child("transformer_blocks." + std::to_string(i),
                                       std::make_shared<BasicTransformerBlock>(channels, heads, ctx_dim, init)));
  proj_out = child("proj_out", std::make_shared<Conv2d>(channels, channels, 1, 1, 0, true, init));
}

Tensor Transformer2DModel::forward(const Tensor& x, const Tensor& ctx) const {
  int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor h = proj_in->forward(norm->forward(x));             // (B, C, H, W)
  h = reshape(permute(h, {0, 2, 3, 1}), {B, H * W, C});      // (B, HW, C)
  for (const auto& block : transformer_blocks) h = block->forward(h, ctx);
  h = permute(reshape(h, {B, H, W, C}), {0, 3, 1, 2});       // (B, C, H, W), a view
  return add(x, proj_out->forward(contiguous_op(h)));
}

}  // namespace tr::models
