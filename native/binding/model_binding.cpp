// model_binding.cpp: creating models by kind, listing their named parameters, calling their methods.
//   modelCreate(kind, config, seed) -> ModelHandle
//   modelParameters(model) -> [[name, tensor], ...] (the live parameters, shared with the model)
//   modelCall(model, method, inputs[], { checkpointing }) -> tensor[]
//   modelTo(model, device): every parameter (and gradient) moved to device in place, or none on failure
//   modelKinds() -> string[]
#include "binding/model_binding.h"

#include <map>

namespace tr::binding {

namespace {
std::map<std::string, ModelFactory>& factories() {
  static std::map<std::string, ModelFactory> f;
  return f;
}

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static Napi::FunctionReference* ctor;
  static void define(Napi::Env env) {
    ctor = new Napi::FunctionReference(Napi::Persistent(DefineClass(env, "ModelHandle", {})));
  }
  explicit ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {}
  std::shared_ptr<models::Model> model;
};
Napi::FunctionReference* ModelHandle::ctor = nullptr;

models::Model& model_arg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject() || !ModelHandle::ctor || !info[i].As<Napi::Object>().InstanceOf(ModelHandle::ctor->Value()))
    fail(ErrorCode::INVALID_ARGUMENT, "Expected a model for model but received another value");
  auto* h = ModelHandle::Unwrap(info[i].As<Napi::Object>());
  if (!h->model) fail(ErrorCode::DISPOSED, "Expected a live model but received one that was disposed");
  return *h->model;
}

Napi::Value get(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a value for config.", key, " but received undefined");
  return v;
}
}  // namespace

ModelRegistrar::ModelRegistrar(const char* kind, ModelFactory factory) { factories()[kind] = std::move(factory); }

int64_t cfg_int(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsNumber()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an integer for config.", key);
  return static_cast<int64_t>(v.As<Napi::Number>().DoubleValue());
}
int64_t cfg_int_or(const Napi::Object& o, const char* key, int64_t fallback) { return o.Get(key).IsUndefined() ? fallback : cfg_int(o, key); }
double cfg_num(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsNumber()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a number for config.", key);
  return v.As<Napi::Number>().DoubleValue();
}
double cfg_num_or(const Napi::Object& o, const char* key, double fallback) { return o.Get(key).IsUndefined() ? fallback : cfg_num(o, key); }
bool cfg_bool_or(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a boolean for config.", key);
  return v.As<Napi::Boolean>().Value();
}
std::string cfg_str_or(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a string for config.", key);
  return v.As<Napi::String>().Utf8Value();
}
std::vector<int64_t> cfg_ints(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an array of integers for config.", key);
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(static_cast<int64_t>(a.Get(i).As<Napi::Number>().DoubleValue()));
  return out;
}
std::vector<bool> cfg_bools(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an array of booleans for config.", key);
  Napi::Array a = v.As<Napi::Array>();
  std::vector<bool> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).ToBoolean().Value());
  return out;
}
Napi::Object cfg_obj(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsObject()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an object for config.", key);
  return v.As<Napi::Object>();
}

TR_EXPORT(modelKinds) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const auto& [k, f] : factories()) a.Set(i++, Napi::String::New(info.Env(), k));
  return a;
}

TR_EXPORT(modelCreate) {
  Napi::Env env = info.Env();
  if (!ModelHandle::ctor) ModelHandle::define(env);
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  auto it = factories().find(kind);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [k, f] : factories()) known += (known.empty() ? "" : ", ") + k;
    fail(ErrorCode::INVALID_ARGUMENT, "Expected a model kind (one of ", known, ") but received \"", kind, "\"");
  }
  if (!info[1].IsObject()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a config object for ", kind);
  uint64_t seed = seed_arg(info, 2, "seed");
  auto model = it->second(info[1].As<Napi::Object>(), seed);
  Napi::Object obj = ModelHandle::ctor->New({});
  ModelHandle::Unwrap(obj)->model = model;
  return obj;
}

TR_EXPORT(modelParameters) {
  models::Model& m = model_arg(info, 0);
  Napi::Env env = info.Env();
  auto params = m.parameters();
  Napi::Array out = Napi::Array::New(env, params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, params[i].first));
    pair.Set(1u, wrap(env, params[i].second));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

TR_EXPORT(modelCall) {
  models::Model& m = model_arg(info, 0);
  std::string method = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::vector<Tensor> inputs = tensor_list_arg(info, 2, "inputs");
  models::CallOptions opts;
  if (info[3].IsObject()) opts.checkpointing = cfg_bool_or(info[3].As<Napi::Object>(), "checkpointing", false);
  std::vector<Tensor> outs = m.call(method, inputs, opts);
  Napi::Array arr = Napi::Array::New(info.Env(), outs.size());
  for (size_t i = 0; i < outs.size(); ++i) arr.Set(static_cast<uint32_t>(i), wrap(info.Env(), outs[i]));
  return arr;
}

TR_EXPORT(modelTo) {
  models::Model& m = model_arg(info, 0);
  models::move_parameters(m, device_arg(info, 1));
  return info.Env().Undefined();
}

TR_EXPORT(modelDispose) {
  if (info[0].IsObject() && ModelHandle::ctor && info[0].As<Napi::Object>().InstanceOf(ModelHandle::ctor->Value()))
    ModelHandle::Unwrap(info[0].As<Napi::Object>())->model.reset();
  return info.Env().Undefined();
}

}  // namespace tr::binding
