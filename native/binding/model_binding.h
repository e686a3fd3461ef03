// model_binding.h: ModelHandle (one ObjectWrap per native model) and the registry that maps a
// model kind ("unet", "vae", ...) to a factory converting its validated JS config into the
// model's typed C++ config, in one place per model (binding/<model>_config.cpp).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "binding/binding.h"
#include "models/module.h"

namespace tr::binding {

using ModelFactory = std::function<std::shared_ptr<models::Model>(const Napi::Object& config, uint64_t seed)>;

struct ModelRegistrar {
  ModelRegistrar(const char* kind, ModelFactory factory);
};

// Config readers: a missing or wrong field throws INVALID_ARGUMENT naming it.
int64_t cfg_int(const Napi::Object& o, const char* key);
int64_t cfg_int_or(const Napi::Object& o, const char* key, int64_t fallback);
double cfg_num(const Napi::Object& o, const char* key);
double cfg_num_or(const Napi::Object& o, const char* key, double fallback);
bool cfg_bool_or(const Napi::Object& o, const char* key, bool fallback);
std::string cfg_str_or(const Napi::Object& o, const char* key, const std::string& fallback);
std::vector<int64_t> cfg_ints(const Napi::Object& o, const char* key);
std::vector<bool> cfg_bools(const Napi::Object& o, const char* key);
Napi::Object cfg_obj(const Napi::Object& o, const char* key);

}  // namespace tr::binding
