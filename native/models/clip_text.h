// clip_text.h: HF's CLIPTextModel (SD1.5's text encoder), named as its checkpoints are:
// 'text_model.embeddings.{token,position}_embedding', 'text_model.encoder.layers.N.*',
// 'text_model.final_layer_norm', and with projection_dim > 0 also 'text_projection' (no bias), as in
// CLIPModel / CLIPTextModelWithProjection. Causal self-attention over ids int32 (B, T), T <= max_position.
#pragma once
#include "models/clip_encoder.h"

namespace tr::models {

struct ClipTextConfig {
  ClipEncoderConfig encoder;
  int64_t vocab = 49408;
  int64_t max_position = 77;
  int64_t projection_dim = 0;  // 0: no text_projection
  int64_t eos_token_id = -1;   // pooling position: the first eos_token_id; -1: the first argmax of the ids (OpenAI CLIP's EOT)
};

class ClipTextModel : public Model {
 public:
  ClipTextModel(const ClipTextConfig& c, uint64_t seed);
  // ids int32 (B, T), mask (B, T) 1/0 or undefined -> last_hidden_state (B, T, D), after final_layer_norm
  Tensor encode(const Tensor& ids, const Tensor& mask, bool checkpointing) const;
  // hidden (B, T, D) -> the EOS token's row (B, D)
  Tensor pool(const Tensor& hidden, const Tensor& ids) const;
  // "forward" (ids, mask or null) -> [last_hidden_state (B, T, D), pooled (B, D)] and, with a projection,
  // text_embeds (B, P).
  std::vector<Tensor> call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) override;
  std::string kind() const override { return "clip_text"; }

 private:
  ClipTextConfig config_;
  std::shared_ptr<Embedding> token_embedding, position_embedding;
  std::shared_ptr<ClipEncoder> encoder;
  std::shared_ptr<LayerNorm> final_layer_norm;
  std::shared_ptr<Linear> text_projection;  // (P, D) or null
};

// Row b of hidden (B, N, D) at position positions[b] -> (B, D); differentiable (slices and a concat).
Tensor gather_rows(const Tensor& hidden, const std::vector<int64_t>& positions);

}  // namespace tr::models
