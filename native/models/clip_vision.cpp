// clip_vision.cpp: patchify, prepend the class embedding, add positions, pre-norm, CLIP layers.
#include "models/clip_vision.h"

namespace tr::models {

ClipVisionModel::ClipVisionModel(const ClipVisionConfig& c, uint64_t seed) : config_(c) {
  check(c.patch > 0 && c.image_size % c.patch == 0, ErrorCode::INVALID_ARGUMENT, "Expected an image_size that is a multiple of the patch (",
        c.patch, ") for clip_vision but received ", c.image_size);
  Init init(seed);
  int64_t D = c.encoder.width;
  class_embedding = &param("vision_model.embeddings.class_embedding", init.normal({D}, 1.0));
  patch_embedding = child("vision_model.embeddings.patch_embedding", std::make_shared<Conv2d>(3, D, c.patch, c.patch, 0, false, init));
  position_embedding = child("vision_model.embeddings.position_embedding", std::make_shared<Embedding>(c.tokens(), D, init));
  pre_layrnorm = child("vision_model.pre_layrnorm", std::make_shared<LayerNorm>(D, c.encoder.eps));
  encoder = child("vision_model.encoder", std::make_shared<ClipEncoder>(c.encoder, init));
  post_layernorm = child("vision_model.post_layernorm", std::make_shared<LayerNorm>(D, c.encoder.eps));
  if (c.projection_dim > 0) visual_projection = child("visual_projection", std::make_shared<Linear>(D, c.projection_dim, false, init));
}

Tensor ClipVisionModel::encode(const Tensor& image, bool checkpointing) const {
  const Shape& s = image.shape();
  int64_t S = config_.image_size, D = config_.encoder.width;
  check(s.size() == 4 && s[1] == 3 && s[2] == S && s[3] == S, ErrorCode::SHAPE_MISMATCH, "Expected an image of shape [B, 3, ", S, ", ", S,
        "] for clip_vision but received ", shape_str(s));
  int64_t B = s[0];
  // 1. patches (B, D, S/p, S/p) -> (B, (S/p)^2, D), class embedding first, positions
  Tensor patches = transpose(reshape(patch_embedding->forward(image), {B, D, -1}), 1, 2);
  Tensor cls = expand(reshape(*class_embedding, {1, 1, D}), {B, 1, D});
  Tensor x = add(concat({cls, patches}, 1), *position_embedding->weight);  // (B, N, D)
  // 2. pre-norm, 3. layers (no mask)
  return encoder->forward(pre_layrnorm->forward(x), Tensor(), checkpointing);
}

std::vector<Tensor> ClipVisionModel::call(const std::string& method, const std::vector<Tensor>& in, const CallOptions& options) {
  check(method == "forward", ErrorCode::INVALID_ARGUMENT, "Expected method \"forward\" for clip_vision but received \"", method, "\"");
  check(in.size() == 1 && in[0].defined(), ErrorCode::INVALID_ARGUMENT, "Expected one input (image) for clip_vision.forward but received ",
        in.size(), " inputs");
  Tensor hidden = encode(in[0], options.checkpointing);
  int64_t B = hidden.shape()[0], D = config_.encoder.width;
  // 4. pooled: post_layernorm of the class token
  Tensor pooled = post_layernorm->forward(reshape(slice(hidden, 1, 0, 1, 1), {B, D}));
  if (!visual_projection) return {hidden, pooled};
  return {hidden, pooled, visual_projection->forward(pooled)};
}

}  // namespace tr::models
