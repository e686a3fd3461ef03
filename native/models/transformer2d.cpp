// transformer2d.cpp: Attention, BasicTransformerBlock, Transformer2DModel (diffusers' attention_processor.py,
// attention.py, transformer_2d.py) as compositions of ops, and the LoRA adapters they may carry.
#include "models/transformer2d.h"

#include <algorithm>
#include <cmath>

namespace tr::models {

bool LoraSpec::wants(const std::string& projection) const {
  return rank > 0 && std::find(targets.begin(), targets.end(), projection) != targets.end();
}

LoraAdapter::LoraAdapter(int64_t in, int64_t out, const LoraSpec& spec) : scale(spec.alpha / static_cast<double>(spec.rank)) {
  check(spec.init != nullptr, ErrorCode::INTERNAL, "Expected an initialiser for the LoRA adapters but received none");
  A = &param("lora_A.weight", spec.init->uniform({spec.rank, in}, 1.0 / std::sqrt(static_cast<double>(in))));
  B = &param("lora_B.weight", zeros({out, spec.rank}, DType::F32));
}

Tensor LoraAdapter::forward(const Tensor& x) const {
  return mul_scalar(linear(linear(x, *A, Tensor()), *B, Tensor()), scale);  // (..., rank) -> (..., out)
}

Tensor project(const Linear& linear_layer, const LoraAdapter* adapter, const Tensor& x) {
  Tensor y = linear_layer.forward(x);
  return adapter ? add(y, adapter->forward(x)) : y;
}

std::shared_ptr<LoraAdapter> make_lora(const std::string& projection, int64_t in, int64_t out, const LoraSpec* spec) {
  if (!spec || !spec->wants(projection)) return nullptr;
  return std::make_shared<LoraAdapter>(in, out, *spec);
}

Attention::Attention(int64_t dim, int64_t h, int64_t kv_dim, bool bias, Init& init, const LoraSpec* lora) : heads(h) {
  to_q = child("to_q", std::make_shared<Linear>(dim, dim, bias, init));
  to_k = child("to_k", std::make_shared<Linear>(kv_dim, dim, bias, init));
  to_v = child("to_v", std::make_shared<Linear>(kv_dim, dim, bias, init));
  to_out = child("to_out.0", std::make_shared<Linear>(dim, dim, true, init));
  if ((lora_q = make_lora("to_q", dim, dim, lora))) child("to_q", lora_q);
  if ((lora_k = make_lora("to_k", kv_dim, dim, lora))) child("to_k", lora_k);
  if ((lora_v = make_lora("to_v", kv_dim, dim, lora))) child("to_v", lora_v);
  if ((lora_out = make_lora("to_out.0", dim, dim, lora))) child("to_out.0", lora_out);
}

Tensor Attention::forward(const Tensor& x, const Tensor& ctx) const {
  const Tensor& kv = ctx.defined() ? ctx : x;
  Tensor q = project(*to_q, lora_q.get(), x), k = project(*to_k, lora_k.get(), kv), v = project(*to_v, lora_v.get(), kv);  // (B, N, dim), (B, M, dim) x2
  return project(*to_out, lora_out.get(), multi_head_attention(q, k, v, heads, Tensor()));                              // (B, N, dim)
}

BasicTransformerBlock::BasicTransformerBlock(int64_t dim, int64_t heads, int64_t ctx_dim, Init& init, const LoraSpec* lora) {
  norm1 = child("norm1", std::make_shared<LayerNorm>(dim, 1e-5));
  attn1 = child("attn1", std::make_shared<Attention>(dim, heads, dim, false, init, lora));
  norm2 = child("norm2", std::make_shared<LayerNorm>(dim, 1e-5));
  attn2 = child("attn2", std::make_shared<Attention>(dim, heads, ctx_dim, false, init, lora));
  norm3 = child("norm3", std::make_shared<LayerNorm>(dim, 1e-5));
  ff_proj = child("ff.net.0.proj", std::make_shared<Linear>(dim, 2 * 4 * dim, true, init));
  ff_out = child("ff.net.2", std::make_shared<Linear>(4 * dim, dim, true, init));
  if ((lora_ff_proj = make_lora("ff.net.0.proj", dim, 2 * 4 * dim, lora))) child("ff.net.0.proj", lora_ff_proj);
  if ((lora_ff_out = make_lora("ff.net.2", 4 * dim, dim, lora))) child("ff.net.2", lora_ff_out);
}

Tensor BasicTransformerBlock::forward(const Tensor& x, const Tensor& ctx) const {
  Tensor h = add(x, attn1->forward(norm1->forward(x), Tensor()));  // (B, HW, dim)
  h = add(h, attn2->forward(norm2->forward(h), ctx));
  Tensor ff = geglu(project(*ff_proj, lora_ff_proj.get(), norm3->forward(h)));  // (B, HW, 4dim): hidden * gelu(gate)
  return add(h, project(*ff_out, lora_ff_out.get(), ff));
}

Transformer2DModel::Transformer2DModel(int64_t channels, int64_t heads, int64_t ctx_dim, int64_t groups, int64_t depth, Init& init,
                                       const LoraSpec* lora) {
  norm = child("norm", std::make_shared<GroupNorm>(groups, channels, 1e-6));
  proj_in = child("proj_in", std::make_shared<Conv2d>(channels, channels, 1, 1, 0, true, init));
  for (int64_t i = 0; i < depth; ++i)
    transformer_blocks.push_back(child("transformer_blocks." + std::to_string(i),
                                       std::make_shared<BasicTransformerBlock>(channels, heads, ctx_dim, init, lora)));
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
