// clip_config.cpp: the "clip_text" and "clip_vision" model kinds (HF CLIPTextConfig / CLIPVisionConfig
// fields under their HF names):
//   clip_text:   { vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
//                  max_position_embeddings, hidden_act?, layer_norm_eps?, projection_dim?, eos_token_id? }
//   clip_vision: { image_size, patch_size, hidden_size, num_hidden_layers, num_attention_heads,
//                  intermediate_size, hidden_act?, layer_norm_eps?, projection_dim? }
// hidden_act: "quick_gelu" (default, OpenAI CLIP) or "gelu"; layer_norm_eps defaults to 1e-5.
#include "binding/model_binding.h"
#include "models/clip_text.h"
#include "models/clip_vision.h"

namespace tr::binding {

namespace {
models::ClipEncoderConfig encoder_config(const Napi::Object& o) {
  models::ClipEncoderConfig c;
  c.width = cfg_int(o, "hidden_size");
  c.layers = cfg_int(o, "num_hidden_layers");
  c.heads = cfg_int(o, "num_attention_heads");
  c.intermediate = cfg_int(o, "intermediate_size");
  c.eps = cfg_num_or(o, "layer_norm_eps", 1e-5);
  std::string act = cfg_str_or(o, "hidden_act", "quick_gelu");
  check(act == "quick_gelu" || act == "gelu", ErrorCode::INVALID_ARGUMENT, "Expected \"quick_gelu\" or \"gelu\" for config.hidden_act but received \"",
        act, "\"");
  c.act = act == "gelu" ? models::ClipAct::Gelu : models::ClipAct::QuickGelu;
  return c;
}
}  // namespace

static ModelRegistrar clip_text_registrar("clip_text", [](const Napi::Object& o, uint64_t seed) {
  models::ClipTextConfig c;
  c.encoder = encoder_config(o);
  c.vocab = cfg_int(o, "vocab_size");
  c.max_position = cfg_int(o, "max_position_embeddings");
  c.projection_dim = cfg_int_or(o, "projection_dim", 0);
  c.eos_token_id = cfg_int_or(o, "eos_token_id", -1);
  return std::make_shared<models::ClipTextModel>(c, seed);
});

static ModelRegistrar clip_vision_registrar("clip_vision", [](const Napi::Object& o, uint64_t seed) {
  models::ClipVisionConfig c;
  c.encoder = encoder_config(o);
  c.image_size = cfg_int(o, "image_size");
  c.patch = cfg_int(o, "patch_size");
  c.projection_dim = cfg_int_or(o, "projection_dim", 0);
  return std::make_shared<models::ClipVisionModel>(c, seed);
});

}  // namespace tr::binding
