// mlp_config.cpp: the "mlp" model kind: { dims: number[], act: "gelu" | "none" } -> MlpConfig.
#include "binding/model_binding.h"
#include "models/mlp.h"

namespace tr::binding {

static ModelRegistrar mlp_registrar("mlp", [](const Napi::Object& o, uint64_t seed) {
  models::MlpConfig c;
  c.dims = cfg_ints(o, "dims");
  std::string act = cfg_str_or(o, "act", "gelu");
  check(act == "gelu" || act == "none", ErrorCode::INVALID_ARGUMENT, "Expected \"gelu\" or \"none\" for config.act but received \"", act, "\"");
  c.gelu = act == "gelu";
  return std::make_shared<models::Mlp>(c, seed);
});

}  // namespace tr::binding
