// bert.cpp: BLIP's BERT text encoder with cross-attention into the image.
#include "models/bert.h"

#include "core/device.h"

namespace tr::models {

BertAttention::BertAttention(const BertConfig& c, int64_t kv_width, Init& init) : heads(c.heads) {
  query = child("self.query", std::make_shared<Linear>(c.width, c.width, true, init));
  key = child("self.key", std::make_shared<Linear>(kv_width, c.width, true, init));
  value = child("self.value", std::make_shared<Linear>(kv_width, c.width, true, init));
  dense = child("output.dense", std::make_shared<Linear>(c.width, c.width, true, init));
  norm = child("output.LayerNorm", std::make_shared<LayerNorm>(c.width, c.eps));
}

Tensor BertAttention::forward(const Tensor& x, const Tensor& ctx, const Tensor& mask) const {
  Tensor h = multi_head_attention(query->forward(x), key->forward(ctx), value->forward(ctx), heads, mask);  // (B, T, D)
  return norm->forward(add(dense->forward(h), x));
}

BertLayer::BertLayer(const BertConfig& c, Init& init) {
  attention = child("attention", std::make_shared<BertAttention>(c, c.width, init));
  crossattention = child("crossattention", std::make_shared<BertAttention>(c, c.encoder_width, init));
  intermediate = child("intermediate.dense", std::make_shared<Linear>(c.width, c.intermediate, true, init));
  output = child("output.dense", std::make_shared<Linear>(c.intermediate, c.width, true, init));
  norm = child("output.LayerNorm", std::make_shared<LayerNorm>(c.width, c.eps));
}

Tensor BertLayer::forward(const Tensor& x, const Tensor& image_tokens, const Tensor& mask) const {
  // 1. self-attention over the text (padding masked), 2. cross-attention into every image token
  // (skipped in text mode: no image tokens)
  Tensor h = attention->forward(x, x, mask);
  if (image_tokens.defined()) h = crossattention->forward(h, image_tokens, Tensor());
  // 3. feed-forward, post-norm
  return norm->forward(add(output->forward(gelu(intermediate->forward(h), false)), h));
}

BertModel::BertModel(const BertConfig& c, Init& init) : config_(c) {
  check(c.heads > 0 && c.width % c.heads == 0, ErrorCode::INVALID_ARGUMENT, "Expected a width divisible by heads (", c.heads,
        ") for bert but received ", c.width);
  check(c.pad_token_id >= 0 && c.pad_token_id < c.vocab, ErrorCode::INVALID_ARGUMENT, "Expected a pad_token_id in [0, ", c.vocab,
        ") for bert but received ", c.pad_token_id);
  word_embeddings = child("embeddings.word_embeddings", std::make_shared<Embedding>(c.vocab, c.width, init));
  position_embeddings = child("embeddings.position_embeddings", std::make_shared<Embedding>(c.max_position, c.width, init));
  embeddings_norm = child("embeddings.LayerNorm", std::make_shared<LayerNorm>(c.width, c.eps));
  for (int64_t i = 0; i < c.depth; ++i) layers.push_back(child("encoder.layer." + std::to_string(i), std::make_shared<BertLayer>(c, init)));
}

Tensor BertModel::embed(const Tensor& ids) const {
  int64_t B = ids.shape()[0], T = ids.shape()[1];
  Tensor words = word_embeddings->forward(ids);  // (B, T, D)
  if (needs_grad({*word_embeddings->weight})) {
    // nn.Embedding(padding_idx): the padding row's gradient stays zero. Same values, no gradient
    // through the padding positions: words * keep + detach(words) * (1 - keep). keep is written on the
    // host from the ids, then sent to the words' device.
    Tensor keep = zeros({B, T, 1}, words.dtype());
    Tensor ids_c = contiguous(to_device(ids, Device::CPU));
    const int32_t* pi = ids_c.data<int32_t>();
    TR_FLOAT_DISPATCH(words.dtype(), V, {
      V* pk = keep.data<V>();
      for (int64_t i = 0; i < B * T; ++i) pk[i] = pi[i] == config_.pad_token_id ? V(0) : V(1);
    });
    keep = to_device(keep, words.device());
    Tensor drop = add_scalar(neg(keep), 1.0);
    words = add(mul(words, keep), mul(words.detach(), drop));
  }
  Tensor positions = slice(*position_embeddings->weight, 0, 0, T, 1);  // (T, D)
  return add(words, positions);
}

Tensor BertModel::forward(const Tensor& ids, const Tensor& mask, const Tensor& image_tokens, bool checkpointing) const {
  int64_t B = ids.shape()[0], T = ids.shape()[1];
  check(T <= config_.max_position, ErrorCode::SHAPE_MISMATCH, "Expected at most ", config_.max_position,
        " tokens (max_position) for bert but received ", T);
  // 1. embeddings
  Tensor x = embeddings_norm->forward(embed(ids));  // (B, T, D)
  // 2. padding as an additive mask, as BertModel extends it: (1 - mask) * -10000
  Tensor additive;
  {
    NoGradGuard ng;
    additive = reshape(mul_scalar(add_scalar(cast(mask, x.dtype()), -1.0), 10000.0), {B, 1, 1, T});  // (B, 1, 1, T)
  }
  // 3. layers
  for (const auto& layer : layers) {
    if (!checkpointing) x = layer->forward(x, image_tokens, additive);
    else if (image_tokens.defined())
      x = checkpoint([layer](const std::vector<Tensor>& in) { return layer->forward(in[0], in[1], in[2]); }, {x, image_tokens, additive});
    else x = checkpoint([layer](const std::vector<Tensor>& in) { return layer->forward(in[0], Tensor(), in[1]); }, {x, additive});
  }
  return x;
}

}  // namespace tr::models
