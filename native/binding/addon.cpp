// addon.cpp: module init: every TR_EXPORT function wrapped in the error
// guard (tr::Error -> JS Error with `code`), and native memory reported to V8 after each call.
#include <new>

#include "binding/binding.h"

namespace tr::binding {

std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}

Registrar::Registrar(const char* name, BoundFn fn) { registry().push_back({name, fn}); }

namespace {
int64_t g_reported = 0;
int64_t g_v8_external = 0;  // V8's own total of external memory, as it answered the last adjustment

void report_memory(Napi::Env env) {
  int64_t live = memory_stats(Device::CPU).live_bytes;
  int64_t delta = live - g_reported;
  if (delta != 0) {
    g_v8_external = Napi::MemoryManagement::AdjustExternalMemory(env, delta);
    g_reported = live;
  }
}

// v8ExternalMemory(): what V8 holds as externally allocated memory after our last report.
Napi::Value v8_external_memory(const Napi::CallbackInfo& info) {
  report_memory(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(g_v8_external));
}

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// Every registered function is called through here: the pointer travels as the function's data.
Napi::Value call_entry(const Napi::CallbackInfo& info) {
  auto* fn = reinterpret_cast<BoundFn>(info.Data());
  Napi::Env env = info.Env();
  try {
    Napi::Value v = fn(info);
    report_memory(env);
    return v;
  } catch (const Napi::Error&) {
    report_memory(env);
    throw;
  } catch (const tr::Error& e) {
    report_memory(env);
    throw make_error(env, error_code_name(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    report_memory(env);
    throw make_error(env, "OUT_OF_MEMORY", "Out of host memory while running a native call");
  } catch (const std::exception& e) {
    report_memory(env);
    throw make_error(env, "INTERNAL", std::string("Internal error: ") + e.what());
  }
}
}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("v8ExternalMemory", Napi::Function::New(env, v8_external_memory, "v8ExternalMemory"));
  for (const auto& e : registry())
    exports.Set(e.name, Napi::Function::New(env, call_entry, e.name, reinterpret_cast<void*>(e.fn)));
  return exports;
}

}  // namespace tr::binding

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tr::binding::Init(env, exports); }
NODE_API_MODULE(treereward, InitModule)
