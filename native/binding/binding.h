// binding.h: the only header that includes napi.h. Tensor handles (numbers into a handle table,
// handles.cpp), argument readers that throw tr::Error with the project's message form, and TR_EXPORT, which
// registers a function on the addon's exports (each file adds its own; addon.cpp wraps every
// call in the error guard and reports native memory to V8 after it).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/tensor.h"

namespace tr::binding {

using BoundFn = Napi::Value (*)(const Napi::CallbackInfo& info);
struct Registrar {
  Registrar(const char* name, BoundFn fn);
};
struct Entry {
  const char* name;
  BoundFn fn;
};
std::vector<Entry>& registry();

#define TR_EXPORT(name)                                                  \
  static Napi::Value name##_bound(const Napi::CallbackInfo& info);       \
  static ::tr::binding::Registrar name##_registrar(#name, name##_bound); \
  static Napi::Value name##_bound(const Napi::CallbackInfo& info)

// ---- tensor handles (handles.cpp) ----
Napi::Value wrap(Napi::Env env, const Tensor& t);  // a new handle; undefined tensor -> null
bool release_handle(const Napi::Value& v);         // dispose: false when v is no live handle
bool handle_alive(const Napi::Value& v);
size_t live_handles();                             // this thread's handles not yet released
Tensor& tensor_value(const Napi::Value& v, const char* name);  // throws INVALID_ARGUMENT / DISPOSED
Tensor& tensor_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
Tensor opt_tensor_arg(const Napi::CallbackInfo& info, size_t i, const char* name);  // null/undefined -> undefined tensor
std::vector<Tensor> tensor_list_arg(const Napi::CallbackInfo& info, size_t i, const char* name);

// ---- converting values (convert.cpp) ----
std::string describe(const Napi::Value& v);  // a value as messages name it: 3, "text", an array, ...
double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
Shape shape_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<int64_t> ints_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
DType dtype_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
Device device_arg(const Napi::CallbackInfo& info, size_t i);  // "cpu" or "cuda"; undefined -> cpu; else DEVICE
uint64_t seed_arg(const Napi::CallbackInfo& info, size_t i, const char* name);  // a non-negative safe integer

DType parse_dtype(const std::string& s);

}  // namespace tr::binding
