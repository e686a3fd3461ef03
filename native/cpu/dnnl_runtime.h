// dnnl_runtime.h: oneDNN (libdnnl.so.2) loaded at run time, its C API as a table of function
// pointers, one CPU engine and stream, and a cache of built primitives keyed by shape.
// Compiled when the build found oneDNN's headers (TR_HAVE_DNNL); dnnl_api() is null when the
// library is absent at run time or TREEREWARD_DNNL=0, and every caller then takes its portable path.
// Loading it ourselves lets us set GNU OpenMP's wait policy before libgomp starts (see dnnl_runtime.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#ifdef TR_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

namespace tr {

// Every oneDNN function the kernels call; one line each, resolved by dlsym.
#define TR_DNNL_FUNCS(X)                                                                                      \
  X(dnnl_engine_create) X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_strides)         \
  X(dnnl_memory_desc_init_by_tag) X(dnnl_memory_desc_equal) X(dnnl_memory_desc_get_size) X(dnnl_memory_create) \
  X(dnnl_memory_destroy) X(dnnl_primitive_desc_create) X(dnnl_primitive_desc_destroy)                         \
  X(dnnl_primitive_desc_query_md) X(dnnl_primitive_create) X(dnnl_primitive_destroy) X(dnnl_primitive_execute) \
  X(dnnl_primitive_attr_create) X(dnnl_primitive_attr_destroy) X(dnnl_primitive_attr_set_output_scales)       \
  X(dnnl_primitive_attr_set_post_ops) X(dnnl_post_ops_create) X(dnnl_post_ops_destroy) X(dnnl_post_ops_append_sum) \
  X(dnnl_matmul_desc_init) X(dnnl_convolution_forward_desc_init) X(dnnl_convolution_backward_data_desc_init)  \
  X(dnnl_convolution_backward_weights_desc_init) X(dnnl_reorder_primitive_desc_create)

struct DnnlApi {
#define TR_X(f) decltype(&::f) f = nullptr;
  TR_DNNL_FUNCS(TR_X)
#undef TR_X
  void (*omp_set_num_threads)(int) = nullptr;
  dnnl_engine_t engine = nullptr;
  dnnl_stream_t stream = nullptr;
  bool bf16 = false;  // the CPU has AVX512-BF16 or AMX: oneDNN computes bf16 natively
};

// The loaded library, or null. Thread-safe; loads on first call.
const DnnlApi* dnnl_api();

// Throws a tr::Error (code INTERNAL) naming `what` when a oneDNN call fails.
void dnnl_check(dnnl_status_t s, const char* what);

// A built primitive with its descriptor; destroyed with the cache.
struct DnnlPrim {
  dnnl_primitive_desc_t pd = nullptr;
  dnnl_primitive_t prim = nullptr;
  DnnlPrim() = default;
  DnnlPrim(const DnnlPrim&) = delete;
  DnnlPrim& operator=(const DnnlPrim&) = delete;
  ~DnnlPrim();
  // Builds from an op descriptor (a matmul or convolution desc) or a reorder pd made by the caller.
  void build(const_dnnl_op_desc_t op, const_dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint);
  void adopt(dnnl_primitive_desc_t made);
  const dnnl_memory_desc_t& md(dnnl_query_t what, int index = 0) const;
  size_t bytes(dnnl_query_t what) const;
};

// The cache: `make` builds the value on a miss. Values live until exit (shapes repeat in training).
// Holds at most a few hundred entries; the oldest are dropped beyond that.
template <typename V>
std::shared_ptr<V> dnnl_cached(const std::string& key, const std::function<std::shared_ptr<V>()>& make);
std::shared_ptr<void> dnnl_cache_lookup(const std::string& key, const std::function<std::shared_ptr<void>()>& make);
template <typename V>
std::shared_ptr<V> dnnl_cached(const std::string& key, const std::function<std::shared_ptr<V>()>& make) {
  return std::static_pointer_cast<V>(dnnl_cache_lookup(key, [&]() -> std::shared_ptr<void> { return make(); }));
}

// Runs `prim` with (arg, memory desc, pointer) triples on the stream; waits for it.
struct DnnlArg {
  int arg;
  const dnnl_memory_desc_t* md;
  const void* ptr;
};
void dnnl_run(dnnl_primitive_t prim, std::initializer_list<DnnlArg> args);

// A memory descriptor of a plain row-major tensor with explicit strides (in elements).
dnnl_memory_desc_t dnnl_md(const std::vector<int64_t>& dims, dnnl_data_type_t dt, const std::vector<int64_t>& strides);
dnnl_memory_desc_t dnnl_md_tag(const std::vector<int64_t>& dims, dnnl_data_type_t dt, dnnl_format_tag_t tag);

// A per-thread scratch buffer of at least `bytes`, 64-byte aligned, kept for the next call;
// `slot` picks one of a few independent buffers.
void* dnnl_scratch(int slot, size_t bytes);

}  // namespace tr
#endif

namespace tr {
// conv2d through oneDNN (dnnl_conv2d.cpp): plain layouts in and out, x (N, Cin, H, W), weight
// (Cout, Cin/G, kh, kw), bias (Cout) or null, out (N, Cout, Ho, Wo); all float32, or all bfloat16
// (uint16_t storage) with `bf16`. The backward writes each gradient whose pointer is not null.
// Both return false, computing nothing, when oneDNN (or its native bf16) is unavailable.
struct DnnlConvShape {
  int64_t N, Cin, H, W, Cout, kh, kw, sh, sw, ph, pw, G, Ho, Wo;
};
bool conv2d_dnnl_forward(bool bf16, const DnnlConvShape& s, void* out, const void* x, const void* w, const void* bias);
bool conv2d_dnnl_backward(bool bf16, const DnnlConvShape& s, void* dx, void* dw, void* dbias, const void* dout, const void* x,
                          const void* w);

// True when oneDNN is loaded (always false in a build without its headers).
bool dnnl_enabled();
// True when oneDNN computes bf16 natively on this CPU (AVX512-BF16 or AMX).
bool dnnl_bf16_enabled();
}  // namespace tr
