// bert.h: BLIP's text encoder (med.py BertModel in 'multimodal' mode, named as BLIP's 'text_encoder'):
// word + absolute position embeddings and LayerNorm (no token types), then post-norm layers of
// self-attention, cross-attention into the image tokens, and a GELU feed-forward.
// ids int32 (B, T), additive mask (B, 1, 1, T), image tokens (B, N, E) -> hidden states (B, T, D).
// Without image tokens it runs as BLIP's 'text' mode: the same layers, cross-attention skipped.
#pragma once
#include "models/module.h"

namespace tr::models {

struct BertConfig {
  int64_t width = 768;          // D (hidden_size)
  int64_t depth = 12;           // layers
  int64_t heads = 12;
  int64_t intermediate = 3072;  // feed-forward width
  int64_t vocab = 30524;
  int64_t max_position = 512;
  int64_t encoder_width = 768;  // E: the image tokens' width (the ViT's D)
  int64_t pad_token_id = 0;     // its embedding row gets no gradient (nn.Embedding padding_idx)
  double eps = 1e-12;           // BERT's layer_norm_eps
};

// self.{query, key, value} (key and value from kv_width), then output.LayerNorm(output.dense(h) + x).
struct BertAttention : Module {
  int64_t heads;
  std::shared_ptr<Linear> query, key, value, dense;
  std::shared_ptr<LayerNorm> norm;  // output.LayerNorm
  BertAttention(const BertConfig& c, int64_t kv_width, Init& init);
  // x (B, T, D), ctx (B, M, kv_width), mask additive (B, 1, 1, M) or undefined -> (B, T, D)
  Tensor forward(const Tensor& x, const Tensor& ctx, const Tensor& mask) const;
};

struct BertLayer : Module {
  std::shared_ptr<BertAttention> attention, crossattention;
  std::shared_ptr<Linear> intermediate, output;  // intermediate.dense (I, D), output.dense (D, I)
  std::shared_ptr<LayerNorm> norm;               // output.LayerNorm
  BertLayer(const BertConfig& c, Init& init);
  // x (B, T, D), image_tokens (B, N, E) or undefined (text mode), mask additive (B, 1, 1, T) -> (B, T, D)
  Tensor forward(const Tensor& x, const Tensor& image_tokens, const Tensor& mask) const;
};

class BertModel : public Module {
 public:
  BertModel(const BertConfig& c, Init& init);
  // ids int32 (B, T), mask float (B, T) of 1 (token) / 0 (padding), image_tokens (B, N, E) or undefined
  // (text mode) -> (B, T, D)
  Tensor forward(const Tensor& ids, const Tensor& mask, const Tensor& image_tokens, bool checkpointing) const;
  const BertConfig& config() const { return config_; }

 private:
  Tensor embed(const Tensor& ids) const;  // (B, T) -> (B, T, D), before the LayerNorm
  BertConfig config_;
  std::shared_ptr<Embedding> word_embeddings, position_embeddings;
  std::shared_ptr<LayerNorm> embeddings_norm;  // embeddings.LayerNorm
  std::vector<std::shared_ptr<BertLayer>> layers;
};

}  // namespace tr::models
