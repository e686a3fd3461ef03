// clip_text.cpp: token + position embeddings, causal CLIP layers, final norm, EOS pooling.
#include "models/clip_text.h"

#include "core/device.h"

namespace tr::models {

namespace {
constexpr double kMasked = -1e9;  // additive mask value: exp underflows to exactly 0

// (1, 1, T, T) on `device`: 0 on and below the diagonal, kMasked above (a token sees itself and what precedes it).
// Written on the host, then copied.
Tensor causal_mask(int64_t T, DType dtype, Device device) {
  Tensor m = full({1, 1, T, T}, 0.0, dtype);
  TR_FLOAT_DISPATCH(dtype, V, {
    V* p = m.data<V>();
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = i + 1; j < T; ++j) p[i * T + j] = V(kMasked);
  });
  return to_device(m, device);
}
}  // namespace

Tensor gather_rows(const Tensor& hidden, const std::vector<int64_t>& positions) {
  int64_t B = hidden.shape()[0], D = hidden.shape()[2];
  std::vector<Tensor> rows;
  for (int64_t b = 0; b < B; ++b) rows.push_back(slice(slice(hidden, 0, b, b + 1, 1), 1, positions[b], positions[b] + 1, 1));  // (1, 1, D)
  return reshape(concat(rows, 0), {B, D});
}

ClipTextModel::ClipTextModel(const ClipTextConfig& c, uint64_t seed) : config_(c) {
  Init init(seed);
  token_embedding = child("text_model.embeddings.token_embedding", std::make_shared<Embedding>(c.vocab, c.encoder.width, init));
  position_embedding = child("text_model.embeddings.position_embedding", std::make_shared<Embedding>(c.max_position, c.encoder.width, init));
  encoder = child("text_model.encoder", std::make_shared<ClipEncoder>(c.encoder, init));
  final_layer_norm = child("text_model.final_layer_norm", std::make_shared<LayerNorm>(c.encoder.width, c.encoder.eps));
  if (c.projection_dim > 0) text_projection = child("text_projection", std::make_shared<Linear>(c.encoder.width, c.projection_dim, false, init));
}

Tensor ClipTextModel::encode(const Tensor& ids, const Tensor& mask, bool checkpointing) const {
  const Shape& s = ids.shape();
  check(s.size() == 2, ErrorCode::SHAPE_MISMATCH, "Expected ids of shape [B, T] for clip_text but received ", shape_str(s));
  int64_t B = s[0], T = s[1];
  check(T >= 1 && T <= config_.max_position, ErrorCode::SHAPE_MISMATCH, "Expected between 1 and ", config_.max_position,
        " tokens (max_position) for clip_text but received ", T);
  // 1. embeddings: tokens + the first T positions
  Tensor x = add(token_embedding->forward(ids), slice(*position_embedding->weight, 0, 0, T, 1));  // (B, T, D)
  // 2. causal mask, plus padding where a mask is given (HF's _expand_mask)
  Tensor additive = causal_mask(T, x.dtype(), x.device());  // (1, 1, T, T)
  if (mask.defined()) {
    check(mask.shape() == s, ErrorCode::SHAPE_MISMATCH, "Expected a mask of shape ", shape_str(s), " for clip_text but received ", shape_str(mask.shape()));
    NoGradGuard ng;
    Tensor padding = reshape(mul_scalar(add_scalar(cast(mask, x.dtype()), -1.0), -kMasked), {B, 1, 1, T});  // (B, 1, 1, T)
    additive = add(additive, padding);  // (B, 1, T, T)
  }
  // 3. layers, 4. final norm
  return final_layer_norm->forward(encoder->forward(x, additive, checkpointing));
}

Tensor ClipTextModel::pool(const Tensor& hidden, const Tensor& ids) const {
  Tensor ids_c = contiguous(to_device(ids, Device::CPU));  // the EOS positions are found on the host
  int64_t B = ids.shape()[0], T = ids.shape()[1];
  const int32_t* p = ids_c.data<int32_t>();
  std::vector<int64_t> positions(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    const int32_t* row = p + b * T;
    if (config_.eos_token_id < 0) {
      for (int64_t t = 1; t < T; ++t)
        if (row[t] > row[positions[b]]) positions[b] = t;
    } else {
      int64_t at = -1;
      for (int64_t t = 0; t < T && at < 0; ++t)
        if (row[t] == config_.eos_token_id) at = t;
      check(at >= 0, ErrorCode::INVALID_ARGUMENT, "Expected the eos token ", config_.eos_token_id, " in every row of ids for clip_text but row ", b,
            " has none");
      positions[b] = at;
    }
  }
  return gather_rows(hidden, positions);
}

std::vector<Tensor> ClipTextModel::call(const std::string& method, const std::vector<Tensor>& in, const CallOptions& options) {
  check(method == "forward", ErrorCode::INVALID_ARGUMENT, "Expected method \"forward\" for clip_text but received \"", method, "\"");
  check(in.size() >= 1 && in.size() <= 2 && in[0].defined(), ErrorCode::INVALID_ARGUMENT,
        "Expected inputs (ids, mask or null) for clip_text.forward but received ", in.size(), " inputs");
  Tensor hidden = encode(in[0], in.size() == 2 ? in[1] : Tensor(), options.checkpointing);
  Tensor pooled = pool(hidden, in[0]);
  if (!text_projection) return {hidden, pooled};
  return {hidden, pooled, text_projection->forward(pooled)};
}

}  // namespace tr::models
