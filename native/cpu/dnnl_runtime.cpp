// dnnl_runtime.cpp: loads oneDNN with dlopen, resolves its C API, keeps the engine, the stream and
// the primitive cache.
//
// Why dlopen rather than linking: Debian's oneDNN runs its threads with GNU OpenMP, whose workers
// spin after every parallel region (300,000 pause instructions by default: about 7 ms of a core on
// this machine). Our own thread pool runs right after, so each oneDNN call would steal a core from
// the next kernel for milliseconds. libgomp reads its wait policy once, when it is loaded; loading
// oneDNN (and with it libgomp) ourselves lets us set a short spin first, unless the user set one.
// Builds with OpenMP (the default, native/core/thread_pool.cpp) load libgomp with the addon itself and
// run parallel_for on the same threads: src/native/addon.ts sets the spin before loading the addon, and
// the setenv below only matters to builds without OpenMP.
#include "cpu/dnnl_runtime.h"

#include <cstdlib>

#include "core/errors.h"
#include "core/thread_pool.h"

#ifdef TR_HAVE_DNNL
#include <dlfcn.h>

#include <list>
#include <mutex>
#include <unordered_map>
#endif

namespace tr {

#ifdef TR_HAVE_DNNL

namespace {

bool cpu_has_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
}

DnnlApi* load() {
  const char* off = std::getenv("TREEREWARD_DNNL");
  if (off && std::string(off) == "0") return nullptr;
  // GNU OpenMP's spin after a parallel region, in pause instructions: short enough that a oneDNN call
  // does not hold a core into the next kernel, long enough to catch back-to-back regions (reorder + conv).
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) setenv("GOMP_SPINCOUNT", "10000", 0);
  void* h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL);
  if (!h) return nullptr;
  auto* api = new DnnlApi();
  bool ok = true;
#define TR_X(f)                                                   \
  api->f = reinterpret_cast<decltype(api->f)>(dlsym(h, #f));      \
  ok = ok && api->f != nullptr;
  TR_DNNL_FUNCS(TR_X)
#undef TR_X
  api->omp_set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "omp_set_num_threads"));
  if (!ok || api->dnnl_engine_create(&api->engine, dnnl_cpu, 0) != dnnl_success ||
      api->dnnl_stream_create(&api->stream, api->engine, dnnl_stream_default_flags) != dnnl_success) {
    delete api;
    return nullptr;  // the handle stays open: nothing else of it is used
  }
  api->bf16 = cpu_has_bf16();
  return api;
}

struct Cache {
  std::mutex m;
  std::list<std::string> order;  // oldest first
  std::unordered_map<std::string, std::pair<std::shared_ptr<void>, std::list<std::string>::iterator>> map;
};
constexpr size_t kCacheEntries = 512;

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: primitives may be in use at exit
  return *c;
}

}  // namespace

const DnnlApi* dnnl_api() {
  static DnnlApi* api = load();
  return api;
}

void dnnl_check(dnnl_status_t s, const char* what) {
  if (s != dnnl_success) fail(ErrorCode::INTERNAL, "oneDNN failed in ", what, " (status ", static_cast<int>(s), ")");
}

DnnlPrim::~DnnlPrim() {
  const DnnlApi* a = dnnl_api();
  if (prim) a->dnnl_primitive_destroy(prim);
  if (pd) a->dnnl_primitive_desc_destroy(pd);
}

void DnnlPrim::build(const_dnnl_op_desc_t op, const_dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint) {
  const DnnlApi* a = dnnl_api();
  dnnl_check(a->dnnl_primitive_desc_create(&pd, op, attr, a->engine, hint), "primitive_desc_create");
  dnnl_check(a->dnnl_primitive_create(&prim, pd), "primitive_create");
}

void DnnlPrim::adopt(dnnl_primitive_desc_t made) {
  pd = made;
  dnnl_check(dnnl_api()->dnnl_primitive_create(&prim, pd), "primitive_create");
}

const dnnl_memory_desc_t& DnnlPrim::md(dnnl_query_t what, int index) const {
  return *dnnl_api()->dnnl_primitive_desc_query_md(pd, what, index);
}

size_t DnnlPrim::bytes(dnnl_query_t what) const { return dnnl_api()->dnnl_memory_desc_get_size(&md(what)); }

std::shared_ptr<void> dnnl_cache_lookup(const std::string& key, const std::function<std::shared_ptr<void>()>& make) {
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.m);
    auto it = c.map.find(key);
    if (it != c.map.end()) {
      c.order.splice(c.order.end(), c.order, it->second.second);  // most recent last
      return it->second.first;
    }
  }
  std::shared_ptr<void> v = make();  // built outside the lock: oneDNN's JIT takes a while
  std::lock_guard<std::mutex> lk(c.m);
  auto it = c.map.find(key);
  if (it != c.map.end()) return it->second.first;
  if (c.map.size() >= kCacheEntries) {
    c.map.erase(c.order.front());
    c.order.pop_front();
  }
  c.order.push_back(key);
  c.map.emplace(key, std::make_pair(v, std::prev(c.order.end())));
  return v;
}

void dnnl_run(dnnl_primitive_t prim, std::initializer_list<DnnlArg> args) {
  const DnnlApi* a = dnnl_api();
  if (a->omp_set_num_threads) a->omp_set_num_threads(num_threads());
  dnnl_exec_arg_t ex[8];
  int n = 0;
  dnnl_status_t st = dnnl_success;
  for (const DnnlArg& g : args) {
    if (st == dnnl_success) st = a->dnnl_memory_create(&ex[n].memory, g.md, a->engine, const_cast<void*>(g.ptr));
    if (st == dnnl_success) ex[n++].arg = g.arg;
  }
  if (st == dnnl_success) st = a->dnnl_primitive_execute(prim, a->stream, n, ex);
  if (st == dnnl_success) st = a->dnnl_stream_wait(a->stream);
  for (int i = 0; i < n; ++i) a->dnnl_memory_destroy(ex[i].memory);
  dnnl_check(st, "primitive_execute");
}

dnnl_memory_desc_t dnnl_md(const std::vector<int64_t>& dims, dnnl_data_type_t dt, const std::vector<int64_t>& strides) {
  dnnl_memory_desc_t md;
  dnnl_dims_t d, s;
  for (size_t i = 0; i < dims.size(); ++i) d[i] = dims[i], s[i] = strides[i];
  dnnl_check(dnnl_api()->dnnl_memory_desc_init_by_strides(&md, static_cast<int>(dims.size()), d, dt, s), "memory_desc_init_by_strides");
  return md;
}

dnnl_memory_desc_t dnnl_md_tag(const std::vector<int64_t>& dims, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
  dnnl_memory_desc_t md;
  dnnl_dims_t d;
  for (size_t i = 0; i < dims.size(); ++i) d[i] = dims[i];
  dnnl_check(dnnl_api()->dnnl_memory_desc_init_by_tag(&md, static_cast<int>(dims.size()), d, dt, tag), "memory_desc_init_by_tag");
  return md;
}

void* dnnl_scratch(int slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[4];
  Buf& b = bufs[slot];
  if (b.n < bytes) {
    std::free(b.p);
    b.n = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.n);
    check(b.p != nullptr, ErrorCode::OUT_OF_MEMORY, "Expected ", bytes, " bytes of scratch for oneDNN but the allocation failed");
  }
  return b.p;
}

bool dnnl_enabled() { return dnnl_api() != nullptr; }
bool dnnl_bf16_enabled() { return dnnl_api() != nullptr && dnnl_api()->bf16; }

#else

bool dnnl_enabled() { return false; }
bool dnnl_bf16_enabled() { return false; }

#endif

}  // namespace tr
