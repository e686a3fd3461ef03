// unet.cpp: UNet2DConditionModel's construction (levels, skip channels) and forward in diffusers' steps.
#include "models/unet.h"

#include "core/device.h"

namespace tr::models {

namespace {
void check_config(const UNetConfig& c) {
  size_t levels = c.block_out_channels.size();
  check(levels >= 1, ErrorCode::INVALID_ARGUMENT, "Expected at least one level for config.block_out_channels of a unet but received 0");
  check(c.layers_per_block >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.layers_per_block but received ", c.layers_per_block);
  check(c.cross_attn.size() == levels, ErrorCode::INVALID_ARGUMENT, "Expected ", levels, " entries (one per level) for config.cross_attn but received ", c.cross_attn.size());
  check(c.heads.size() == levels, ErrorCode::INVALID_ARGUMENT, "Expected ", levels, " head counts (one per level) for the unet but received ", c.heads.size());
  check(c.transformer_depth.size() == levels, ErrorCode::INVALID_ARGUMENT, "Expected ", levels,
        " entries (one per level) for config.transformer_layers_per_block but received ", c.transformer_depth.size());
  check(c.norm_num_groups >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.norm_num_groups but received ", c.norm_num_groups);
  for (size_t i = 0; i < levels; ++i) {
    int64_t ch = c.block_out_channels[i];
    check(ch >= 1 && ch % c.norm_num_groups == 0, ErrorCode::INVALID_ARGUMENT, "Expected channels divisible by config.norm_num_groups (",
          c.norm_num_groups, ") for config.block_out_channels[", i, "] but received ", ch);
    check(c.heads[i] >= 1 && ch % c.heads[i] == 0, ErrorCode::INVALID_ARGUMENT, "Expected a head count dividing ", ch,
          " channels for the unet's level ", i, " but received ", c.heads[i]);
    check(c.transformer_depth[i] >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.transformer_layers_per_block[", i,
          "] but received ", c.transformer_depth[i]);
  }
  for (auto [v, name] : {std::pair{c.cross_attention_dim, "cross_attention_dim"}, {c.in_channels, "in_channels"}, {c.out_channels, "out_channels"}})
    check(v >= 1, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 1 for config.", name, " but received ", v);
  check(c.lora.rank >= 0, ErrorCode::INVALID_ARGUMENT, "Expected an integer >= 0 for config.lora.rank but received ", c.lora.rank);
  if (c.lora.rank > 0) {
    check(c.lora.alpha > 0, ErrorCode::INVALID_ARGUMENT, "Expected a number > 0 for config.lora.alpha but received ", c.lora.alpha);
    check(!c.lora.targets.empty(), ErrorCode::INVALID_ARGUMENT, "Expected at least one projection for config.lora.targets but received none");
    for (const auto& t : c.lora.targets)
      check(t == "to_q" || t == "to_k" || t == "to_v" || t == "to_out.0" || t == "ff.net.0.proj" || t == "ff.net.2", ErrorCode::INVALID_ARGUMENT,
            "Expected one of to_q, to_k, to_v, to_out.0, ff.net.0.proj, ff.net.2 for config.lora.targets but received \"", t, "\"");
  }
}
}  // namespace

UNet2DConditionModel::UNet2DConditionModel(const UNetConfig& c, uint64_t seed) : config_(c) {
  check_config(c);
  Init init(seed);
  Init lora_init(seed ^ 0x4C6F5241ULL);  // adapters draw from their own stream: base weights do not depend on them
  LoraSpec lora = c.lora;
  lora.init = &lora_init;
  const auto& ch = c.block_out_channels;
  int64_t levels = static_cast<int64_t>(ch.size()), L = c.layers_per_block, G = c.norm_num_groups;
  int64_t temb = 4 * ch[0];
  auto attention_at = [&](int64_t level) {
    LevelAttention a;
    a.heads = c.heads[static_cast<size_t>(level)];
    a.ctx_dim = c.cross_attention_dim;
    a.depth = c.transformer_depth[static_cast<size_t>(level)];
    a.lora = lora.rank > 0 ? &lora : nullptr;
    return a;
  };
  time_linear_1 = child("time_embedding.linear_1", std::make_shared<Linear>(ch[0], temb, true, init));
  time_linear_2 = child("time_embedding.linear_2", std::make_shared<Linear>(temb, temb, true, init));
  conv_in = child("conv_in", std::make_shared<Conv2d>(c.in_channels, ch[0], 3, 1, 1, true, init));
  // Down levels; skip_channels lists every tensor the down path keeps for the up path, conv_in's first.
  std::vector<int64_t> skip_channels = {ch[0]};
  for (int64_t i = 0; i < levels; ++i) {
    bool last = i == levels - 1;
    LevelAttention attn = c.cross_attn[static_cast<size_t>(i)] ? attention_at(i) : LevelAttention{};
    down_blocks.push_back(child("down_blocks." + std::to_string(i),
                                std::make_shared<DownBlock2D>(ch[static_cast<size_t>(std::max<int64_t>(i - 1, 0))], ch[static_cast<size_t>(i)],
                                                              L, temb, G, c.norm_eps, attn, !last, 1, init)));
    for (int64_t k = 0; k < (last ? L : L + 1); ++k) skip_channels.push_back(ch[static_cast<size_t>(i)]);
  }
  mid_block = child("mid_block", std::make_shared<UNetMidBlock2DCrossAttn>(ch.back(), temb, G, c.norm_eps, attention_at(levels - 1), init));
  // Up levels, deepest first: L + 1 resnets, each concatenating the most recent unused skip.
  int64_t cin = ch.back();
  for (int64_t level = levels - 1; level >= 0; --level) {
    std::vector<int64_t> skips;
    for (int64_t k = 0; k < L + 1; ++k) {
      skips.push_back(skip_channels.back());
      skip_channels.pop_back();
    }
    LevelAttention attn = c.cross_attn[static_cast<size_t>(level)] ? attention_at(level) : LevelAttention{};
    int64_t cout = ch[static_cast<size_t>(level)];
    up_blocks.push_back(child("up_blocks." + std::to_string(levels - 1 - level),
                              std::make_shared<UpBlock2D>(cin, cout, skips, L + 1, temb, G, c.norm_eps, attn, level > 0, init)));
    cin = cout;
  }
  conv_norm_out = child("conv_norm_out", std::make_shared<GroupNorm>(G, ch[0], c.norm_eps));
  conv_out = child("conv_out", std::make_shared<Conv2d>(ch[0], c.out_channels, 3, 1, 1, true, init));
}

Tensor UNet2DConditionModel::forward(const Tensor& sample, const Tensor& timestep, const Tensor& encoder_hidden_states, bool checkpointing) const {
  // 1. time: (B) -> (B, 4 * C0)
  // (B, C0), [cos, sin], on the sample's device (a host timestep, as diffusers allows, serves a cuda sample)
  Tensor t_emb = to_device(timestep_embedding(timestep, config_.block_out_channels[0]), sample.device());
  Tensor temb = time_linear_2->forward(silu(time_linear_1->forward(t_emb)));
  // 2. pre-process: (B, C0, h, w)
  Tensor x = conv_in->forward(sample);
  std::vector<Tensor> skips = {x};
  // 3. down: every resnet (or attention) output and every downsampler output is kept for the up path
  for (const auto& block : down_blocks) x = block->forward(x, temb, encoder_hidden_states, checkpointing, &skips);
  // 4. mid
  x = mid_block->forward(x, temb, encoder_hidden_states, checkpointing);
  // 5. up: concatenate the skips, the last kept first
  for (const auto& block : up_blocks) x = block->forward(x, temb, encoder_hidden_states, checkpointing, &skips);
  // 6. post-process: (B, out_channels, h, w)
  return conv_out->forward(conv_norm_out->forward_silu(x));
}

std::vector<Tensor> UNet2DConditionModel::call(const std::string& method, const std::vector<Tensor>& inputs, const CallOptions& options) {
  check(method == "forward", ErrorCode::INVALID_ARGUMENT, "Expected method \"forward\" for a unet but received \"", method, "\"");
  check(inputs.size() == 3 && inputs[0].defined() && inputs[1].defined() && inputs[2].defined(), ErrorCode::INVALID_ARGUMENT,
        "Expected three input tensors (sample, timestep, encoder_hidden_states) for unet.forward but received ", inputs.size());
  const Tensor &sample = inputs[0], &timestep = inputs[1], &text = inputs[2];
  const UNetConfig& c = config_;
  int64_t down = int64_t{1} << (c.block_out_channels.size() - 1);
  check(sample.rank() == 4 && sample.size(1) == c.in_channels && sample.size(2) % down == 0 && sample.size(3) % down == 0,
        ErrorCode::SHAPE_MISMATCH, "Expected shape (B, ", c.in_channels, ", h, w) with h and w divisible by ", down,
        " for sample but received ", shape_str(sample.shape()));
  int64_t B = sample.size(0);
  check(timestep.rank() == 1 && timestep.size(0) == B, ErrorCode::SHAPE_MISMATCH, "Expected shape [", B, "] for timestep but received ",
        shape_str(timestep.shape()));
  check(text.rank() == 3 && text.size(0) == B && text.size(2) == c.cross_attention_dim, ErrorCode::SHAPE_MISMATCH, "Expected shape (", B,
        ", M, ", c.cross_attention_dim, ") for encoder_hidden_states but received ", shape_str(text.shape()));
  return {forward(sample, timestep, text, options.checkpointing)};
}

}  // namespace tr::models
