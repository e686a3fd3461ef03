// blip.h: the BLIP backbone that ImageReward and the tree reward share: 'visual_encoder' (ViT) ->
// 'text_encoder' (BERT cross-attending to the image tokens) -> the [CLS] feature (B, D).
// Parameter names are BLIP's own ('visual_encoder.*', 'text_encoder.*'); an ImageReward checkpoint
// holds them under 'blip.', which the TypeScript loader strips.
#pragma once
#include "models/bert.h"
#include "models/vit.h"

namespace tr::models {

struct BlipConfig {
  VitConfig vit;
  BertConfig bert;  // bert.encoder_width == vit.width
};

class Blip : public Model {
 public:
  Blip(const BlipConfig& c, uint64_t seed);
  // image (B, 3, S, S) normalised pixels -> image tokens (B, N, E)
  Tensor encode_image(const Tensor& image, bool checkpointing) const;
  // ids int32 (B, T), mask (B, T) 1/0, image tokens (B, N, E) -> [CLS] feature (B, D)
  Tensor encode_text(const Tensor& ids, const Tensor& mask, const Tensor& image_tokens, bool checkpointing) const;
  // ids, mask (B, T) -> the text-mode [CLS] feature (B, D): the same text encoder without cross-attention
  // (BLIP's unimodal text feature, for the image-text contrastive loss)
  Tensor encode_text_unimodal(const Tensor& ids, const Tensor& mask, bool checkpointing) const;
  // Methods: "forward" (image, ids, mask) -> [feature (B, D)]; "encode_image" (image) -> [tokens (B, N, E)];
  // "encode_text" (ids, mask, image_tokens) -> [feature (B, D)]; "encode_text_unimodal" (ids, mask) -> [feature (B, D)].
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "blip"; }

 private:
  BlipConfig config_;
  std::shared_ptr<VisionTransformer> visual_encoder;
  std::shared_ptr<BertModel> text_encoder;
};

}  // namespace tr::models
