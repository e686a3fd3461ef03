// vae_config.cpp: the "vae" model kind (AutoencoderKL). The config uses models.json's field names:
// block_out_channels, layers_per_block, norm_num_groups, in_channels, latent_channels (scaling_factor is
// read by the TypeScript handle: decode takes unscaled latents). src/models/configs.ts validates it first.
#include "binding/model_binding.h"
#include "models/vae.h"

namespace tr::binding {

static ModelRegistrar vae_registrar("vae", [](const Napi::Object& o, uint64_t seed) {
  models::VaeConfig c;
  c.block_out_channels = cfg_ints(o, "block_out_channels");
  c.layers_per_block = cfg_int(o, "layers_per_block");
  c.norm_num_groups = cfg_int(o, "norm_num_groups");
  c.in_channels = cfg_int(o, "in_channels");
  c.latent_channels = cfg_int(o, "latent_channels");
  return std::make_shared<models::AutoencoderKL>(c, seed);
});

}  // namespace tr::binding
