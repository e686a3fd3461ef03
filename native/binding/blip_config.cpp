// blip_config.cpp: the "blip" model kind. Config (models.json's names):
//   { image_size, vit: { width, depth, heads, patch, mlp_ratio }, bert: { width, depth, heads, intermediate,
//     vocab, max_position, pad_token_id? } } -> BlipConfig. The text encoder cross-attends at vit.width.
#include "binding/model_binding.h"
#include "models/blip.h"

namespace tr::binding {

static ModelRegistrar blip_registrar("blip", [](const Napi::Object& o, uint64_t seed) {
  models::BlipConfig c;
  Napi::Object vit = cfg_obj(o, "vit"), bert = cfg_obj(o, "bert");
  c.vit.image_size = cfg_int(o, "image_size");
  c.vit.patch = cfg_int(vit, "patch");
  c.vit.width = cfg_int(vit, "width");
  c.vit.depth = cfg_int(vit, "depth");
  c.vit.heads = cfg_int(vit, "heads");
  c.vit.mlp_hidden = cfg_int(vit, "mlp_ratio") * c.vit.width;
  c.bert.width = cfg_int(bert, "width");
  c.bert.depth = cfg_int(bert, "depth");
  c.bert.heads = cfg_int(bert, "heads");
  c.bert.intermediate = cfg_int(bert, "intermediate");
  c.bert.vocab = cfg_int(bert, "vocab");
  c.bert.max_position = cfg_int(bert, "max_position");
  c.bert.pad_token_id = cfg_int_or(bert, "pad_token_id", 0);
  c.bert.encoder_width = c.vit.width;
  return std::make_shared<models::Blip>(c, seed);
});

}  // namespace tr::binding
