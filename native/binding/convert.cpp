// convert.cpp: the argument readers other than tensors' (handles.cpp). A wrong argument throws tr::Error with the
// message form "Expected <what> for <name> but received <value>".
#include <cmath>

#include "binding/binding.h"

namespace tr::binding {

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return std::to_string(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a number for ", name, " but received ", describe(info[i]));
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d = number_arg(info, i, name);
  if (!std::isfinite(d) || std::floor(d) != d || std::abs(d) > 9007199254740991.0)
    fail(ErrorCode::INVALID_ARGUMENT, "Expected an integer for ", name, " but received ", d);
  return static_cast<int64_t>(d);
}

uint64_t seed_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t v = int_arg(info, i, name);
  if (v < 0) fail(ErrorCode::INVALID_ARGUMENT, "Expected a non-negative integer for ", name, " but received ", v);
  return static_cast<uint64_t>(v);
}

bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a boolean for ", name, " but received ", describe(info[i]));
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> ints_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an array of integers for ", name, " but received ", describe(info[i]));
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an integer at ", name, "[", k, "] but received ", describe(v));
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::floor(d) != d) fail(ErrorCode::INVALID_ARGUMENT, "Expected an integer at ", name, "[", k, "] but received ", d);
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

Shape shape_arg(const Napi::CallbackInfo& info, size_t i, const char* name) { return ints_arg(info, i, name); }

DType parse_dtype(const std::string& s) {
  if (s == "float32") return DType::F32;
  if (s == "float64") return DType::F64;
  if (s == "bfloat16") return DType::BF16;
  if (s == "float16") return DType::F16;
  if (s == "int32") return DType::I32;
  fail(ErrorCode::DTYPE, "Expected one of float32, float64, bfloat16, float16, int32 for dtype but received \"", s, "\"");
}

Device device_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return Device::CPU;
  std::string s = info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  if (s == "cpu") return Device::CPU;
  if (s == "cuda") return Device::CUDA;
  fail(ErrorCode::DEVICE, "Expected \"cpu\" or \"cuda\" for device but received ", s.empty() ? "a non-string" : s);
}

DType dtype_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) fail(ErrorCode::DTYPE, "Expected a dtype name for ", name, " but received ", describe(info[i]));
  return parse_dtype(info[i].As<Napi::String>().Utf8Value());
}

}  // namespace tr::binding
