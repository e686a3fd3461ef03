// unet_config.cpp: the "unet" model kind. The config uses models.json's field names: block_out_channels,
// layers_per_block, cross_attn, heads (every level) | head_dim (heads = channels / head_dim per level),
// cross_attention_dim, norm_num_groups, in_channels, out_channels, and optionally
// transformer_layers_per_block (an integer or one per level; defaults to 1) and lora ({ rank, alpha,
// targets }: adapters on the transformers' projections, see transformer2d.h). src/models/configs.ts
// validates it first; the checks here keep a bad object from reaching the model.
#include "binding/model_binding.h"
#include "models/unet.h"

namespace tr::binding {

static ModelRegistrar unet_registrar("unet", [](const Napi::Object& o, uint64_t seed) {
  models::UNetConfig c;
  c.block_out_channels = cfg_ints(o, "block_out_channels");
  c.layers_per_block = cfg_int(o, "layers_per_block");
  c.cross_attn = cfg_bools(o, "cross_attn");
  size_t levels = c.block_out_channels.size();
  bool has_heads = !o.Get("heads").IsUndefined(), has_head_dim = !o.Get("head_dim").IsUndefined();
  check(has_heads != has_head_dim, ErrorCode::INVALID_ARGUMENT, "Expected exactly one of config.heads and config.head_dim for a unet but received ",
        has_heads ? "both" : "neither");
  if (has_heads) {
    c.heads.assign(levels, cfg_int(o, "heads"));
  } else {
    int64_t head_dim = cfg_int(o, "head_dim");
    check(head_dim >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.head_dim but received ", head_dim);
    for (int64_t ch : c.block_out_channels) c.heads.push_back(ch / head_dim);
  }
  Napi::Value depth = o.Get("transformer_layers_per_block");
  if (depth.IsUndefined()) c.transformer_depth.assign(levels, 1);
  else if (depth.IsNumber()) c.transformer_depth.assign(levels, cfg_int(o, "transformer_layers_per_block"));
  else c.transformer_depth = cfg_ints(o, "transformer_layers_per_block");
  c.cross_attention_dim = cfg_int(o, "cross_attention_dim");
  c.norm_num_groups = cfg_int(o, "norm_num_groups");
  c.in_channels = cfg_int(o, "in_channels");
  c.out_channels = cfg_int(o, "out_channels");
  if (!o.Get("lora").IsUndefined()) {  // LoRA adapters: { rank, alpha, targets: [projection names] }
    Napi::Object lora = cfg_obj(o, "lora");
    c.lora.rank = cfg_int(lora, "rank");
    c.lora.alpha = cfg_num(lora, "alpha");
    Napi::Value targets = lora.Get("targets");
    if (!targets.IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an array of projection names for config.lora.targets");
    Napi::Array a = targets.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsString()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a string for config.lora.targets[", i, "]");
      c.lora.targets.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  return std::make_shared<models::UNet2DConditionModel>(c, seed);
});

}  // namespace tr::binding
