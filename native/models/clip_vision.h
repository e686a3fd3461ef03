// clip_vision.h: HF's CLIPVisionModel, named as its checkpoints are: 'vision_model.embeddings.patch_embedding'
// (conv without bias), '.class_embedding' (D), '.position_embedding' (N, D), 'vision_model.pre_layrnorm'
// (HF's spelling), 'vision_model.encoder.layers.N.*', 'vision_model.post_layernorm', and with
// projection_dim > 0 also 'visual_projection' (no bias). Images (B, 3, S, S), N = 1 + (S/p)^2 tokens.
#pragma once
#include "models/clip_encoder.h"

namespace tr::models {

struct ClipVisionConfig {
  ClipEncoderConfig encoder;
  int64_t image_size = 224;
  int64_t patch = 14;
  int64_t projection_dim = 0;  // 0: no visual_projection

  int64_t tokens() const { return (image_size / patch) * (image_size / patch) + 1; }
};

class ClipVisionModel : public Model {
 public:
  ClipVisionModel(const ClipVisionConfig& c, uint64_t seed);
  // image (B, 3, S, S) normalised pixels -> last_hidden_state (B, N, D) (before post_layernorm, as HF)
  Tensor encode(const Tensor& image, bool checkpointing) const;
  // "forward" (image) -> [last_hidden_state (B, N, D), pooled = post_layernorm([CLS]) (B, D)] and, with a
  // projection, image_embeds (B, P).
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "clip_vision"; }

 private:
  ClipVisionConfig config_;
  std::shared_ptr<Conv2d> patch_embedding;
  Tensor* class_embedding;  // (D)
  std::shared_ptr<Embedding> position_embedding;  // (N, D)
  std::shared_ptr<LayerNorm> pre_layrnorm, post_layernorm;
  std::shared_ptr<ClipEncoder> encoder;
  std::shared_ptr<Linear> visual_projection;  // (P, D) or null
};

}  // namespace tr::models
