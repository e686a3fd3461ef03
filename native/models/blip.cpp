// blip.cpp: BLIP's backbone: image tokens, then the text encoder's [CLS] feature.
#include "models/blip.h"

namespace tr::models {

Blip::Blip(const BlipConfig& c, uint64_t seed) : config_(c) {
  check(c.bert.encoder_width == c.vit.width, ErrorCode::INVALID_ARGUMENT, "Expected bert.encoder_width equal to vit.width (", c.vit.width,
        ") for blip but received ", c.bert.encoder_width);
  Init init(seed);
  visual_encoder = child("visual_encoder", std::make_shared<VisionTransformer>(c.vit, init));
  text_encoder = child("text_encoder", std::make_shared<BertModel>(c.bert, init));
}

Tensor Blip::encode_image(const Tensor& image, bool checkpointing) const {
  const Shape& s = image.shape();
  int64_t S = config_.vit.image_size;
  check(s.size() == 4 && s[1] == 3 && s[2] == S && s[3] == S, ErrorCode::SHAPE_MISMATCH, "Expected an image of shape [B, 3, ", S, ", ", S,
        "] for blip but received ", shape_str(s));
  return visual_encoder->forward(image, checkpointing);
}

Tensor Blip::encode_text(const Tensor& ids, const Tensor& mask, const Tensor& image_tokens, bool checkpointing) const {
  const Shape& s = ids.shape();
  check(s.size() == 2 && mask.shape() == s, ErrorCode::SHAPE_MISMATCH, "Expected ids and mask of one shape [B, T] for blip but received ",
        shape_str(s), " and ", shape_str(mask.shape()));
  check(image_tokens.rank() == 3 && image_tokens.shape()[0] == s[0], ErrorCode::SHAPE_MISMATCH,
        "Expected image tokens of shape [", s[0], ", N, E] for blip but received ", shape_str(image_tokens.shape()));
  Tensor hidden = text_encoder->forward(ids, mask, image_tokens, checkpointing);  // (B, T, D)
  return reshape(slice(hidden, 1, 0, 1, 1), {s[0], config_.bert.width});         // [CLS]: (B, D)
}

Tensor Blip::encode_text_unimodal(const Tensor& ids, const Tensor& mask, bool checkpointing) const {
  const Shape& s = ids.shape();
  check(s.size() == 2 && mask.shape() == s, ErrorCode::SHAPE_MISMATCH, "Expected ids and mask of one shape [B, T] for blip but received ",
        shape_str(s), " and ", shape_str(mask.shape()));
  Tensor hidden = text_encoder->forward(ids, mask, Tensor(), checkpointing);  // (B, T, D)
  return reshape(slice(hidden, 1, 0, 1, 1), {s[0], config_.bert.width});    // [CLS]: (B, D)
}

std::vector<Tensor> Blip::call(const std::string& method, const std::vector<Tensor>& in, const CallOptions& options) {
  auto need = [&](size_t n, const char* signature) {
    check(in.size() == n, ErrorCode::INVALID_ARGUMENT, "Expected ", n, " inputs ", signature, " for blip.", method, " but received ", in.size());
    for (const auto& t : in) check(t.defined(), ErrorCode::INVALID_ARGUMENT, "Expected tensors ", signature, " for blip.", method, " but received null");
  };
  if (method == "forward") {
    need(3, "(image, ids, mask)");
    return {encode_text(in[1], in[2], encode_image(in[0], options.checkpointing), options.checkpointing)};
  }
  if (method == "encode_image") {
    need(1, "(image)");
    return {encode_image(in[0], options.checkpointing)};
  }
  if (method == "encode_text") {
    need(3, "(ids, mask, image_tokens)");
    return {encode_text(in[0], in[1], in[2], options.checkpointing)};
  }
  if (method == "encode_text_unimodal") {
    need(2, "(ids, mask)");
    return {encode_text_unimodal(in[0], in[1], options.checkpointing)};
  }
  fail(ErrorCode::INVALID_ARGUMENT, "Expected a blip method (forward, encode_image, encode_text, encode_text_unimodal) but received \"", method, "\"");
}

}  // namespace tr::models
