// handles.cpp: how tensors reach JavaScript. A tensor crosses the boundary as a number, an index into
// this thread's handle table with a generation (id = generation * 2^24 + slot), not as an object with
// a native finalizer: a disposed handle leaves nothing behind, however long a synchronous loop runs
// without returning to the event loop (an ObjectWrap per tensor kept its native half until V8 ran its
// finalizer, about 1.5 KB per op in such a loop). Undisposed tensors are released from JavaScript
// (src/api/tensor.ts registers each Tensor with a FinalizationRegistry). A stale id (its slot disposed
// and perhaps reused) is told apart by its generation, so it can never reach another tensor.
#include <cmath>

#include "binding/binding.h"

namespace tr::binding {

namespace {
constexpr double kSlots = 16777216.0;        // 2^24 live handles per thread at most
constexpr uint32_t kGenerations = 1u << 29;  // ids stay below 2^53

struct Slot {
  Tensor tensor;          // undefined while free
  uint32_t generation = 1;
};

// One table per JavaScript thread (each worker has its own environment and thread): only that thread
// reads or writes it.
struct HandleTable {
  std::vector<Slot> slots;
  std::vector<uint32_t> free;
  size_t live = 0;
};
thread_local HandleTable table;

enum class Lookup { Live, Disposed, NotAHandle };

Lookup find(const Napi::Value& v, Slot** out) {
  if (!v.IsNumber()) return Lookup::NotAHandle;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d >= 9007199254740992.0 || std::floor(d) != d) return Lookup::NotAHandle;
  double gen = std::floor(d / kSlots);
  auto slot = static_cast<size_t>(d - gen * kSlots);
  if (slot >= table.slots.size() || gen < 1 || gen >= kGenerations) return Lookup::NotAHandle;
  Slot& s = table.slots[slot];
  if (static_cast<uint32_t>(gen) > s.generation) return Lookup::NotAHandle;  // never issued
  if (static_cast<uint32_t>(gen) != s.generation || !s.tensor.defined()) return Lookup::Disposed;
  *out = &s;
  return Lookup::Live;
}

// What a value that is no live handle was, for the message; `where` is "for NAME" or "at NAME[k]".
[[noreturn]] void refuse(Lookup r, const Napi::Value& v, const std::string& where) {
  if (r == Lookup::Disposed) fail(ErrorCode::DISPOSED, "Expected a live tensor ", where, " but received one that was disposed");
  fail(ErrorCode::INVALID_ARGUMENT, "Expected a tensor ", where, " but received ",
       v.IsNumber() ? "the number " + describe(v) + ", which is no tensor handle" : describe(v));
}
}  // namespace

Napi::Value wrap(Napi::Env env, const Tensor& t) {
  if (!t.defined()) return env.Null();
  uint32_t slot;
  if (!table.free.empty()) {
    slot = table.free.back();
    table.free.pop_back();
  } else {
    if (table.slots.size() >= static_cast<size_t>(kSlots))
      fail(ErrorCode::OUT_OF_MEMORY, "Expected at most ", static_cast<int64_t>(kSlots), " live tensor handles but every one is in use: dispose tensors you no longer need");
    slot = static_cast<uint32_t>(table.slots.size());
    table.slots.emplace_back();
  }
  Slot& s = table.slots[slot];
  s.tensor = t;
  ++table.live;
  return Napi::Number::New(env, static_cast<double>(s.generation) * kSlots + slot);
}

Tensor& tensor_value(const Napi::Value& v, const char* name) {
  Slot* s = nullptr;
  Lookup r = find(v, &s);
  if (r != Lookup::Live) refuse(r, v, std::string("for ") + name);
  return s->tensor;
}

Tensor& tensor_arg(const Napi::CallbackInfo& info, size_t i, const char* name) { return tensor_value(info[i], name); }

Tensor opt_tensor_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsUndefined() || info[i].IsNull()) return Tensor();
  return tensor_arg(info, i, name);
}

std::vector<Tensor> tensor_list_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected an array of tensors for ", name, " but received ", describe(info[i]));
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<Tensor> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (v.IsNull() || v.IsUndefined()) {
      out.push_back(Tensor());
      continue;
    }
    Slot* s = nullptr;
    Lookup r = find(v, &s);
    if (r != Lookup::Live) refuse(r, v, std::string("at ") + name + "[" + std::to_string(k) + "]");
    out.push_back(s->tensor);
  }
  return out;
}

bool release_handle(const Napi::Value& v) {
  Slot* s = nullptr;
  if (find(v, &s) != Lookup::Live) return false;
  s->tensor = Tensor();
  s->generation = s->generation + 1 < kGenerations ? s->generation + 1 : 1;
  table.free.push_back(static_cast<uint32_t>(s - table.slots.data()));
  --table.live;
  return true;
}

bool handle_alive(const Napi::Value& v) {
  Slot* s = nullptr;
  return find(v, &s) == Lookup::Live;
}

size_t live_handles() { return table.live; }

}  // namespace tr::binding
