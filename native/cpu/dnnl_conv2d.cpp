// dnnl_conv2d.cpp: conv2d forward and backward (data, weights, bias) through oneDNN's direct
// convolutions (AVX-512 f32; AVX512-BF16 or AMX bf16). Tensors stay in our plain layouts, x and out
// (N, C, H, W), weight (Cout, Cin/G, kh, kw), bias (Cout); oneDNN picks its blocked layouts
// (nChw16c, OIhw16i16o, ...) and the reorders between the two run inside each call, into per-thread
// scratch buffers. In the backward, dout is reordered once when the data and weight gradients want
// the same layout. bf16: operands bf16, weight and bias gradients accumulated in f32 and rounded once.
#include "cpu/dnnl_runtime.h"

#include <cstring>

#include "core/dtype.h"

namespace tr {

#ifdef TR_HAVE_DNNL

namespace {

dnnl_data_type_t dt_of(bool bf16) { return bf16 ? dnnl_bf16 : dnnl_f32; }

struct Reorder {
  std::unique_ptr<DnnlPrim> p;  // null when the two layouts agree
  dnnl_memory_desc_t from, to;
};

Reorder make_reorder(const dnnl_memory_desc_t& from, const dnnl_memory_desc_t& to) {
  Reorder r{nullptr, from, to};
  const DnnlApi* api = dnnl_api();
  if (api->dnnl_memory_desc_equal(&from, &to)) return r;
  dnnl_primitive_desc_t pd;
  dnnl_check(api->dnnl_reorder_primitive_desc_create(&pd, &from, api->engine, &to, api->engine, nullptr), "reorder_primitive_desc_create");
  r.p = std::make_unique<DnnlPrim>();
  r.p->adopt(pd);
  return r;
}

// Returns `ptr` itself when no reorder is needed, else the reordered copy in scratch `slot`.
const void* reorder_in(const Reorder& r, const void* ptr, int slot) {
  if (!r.p) return ptr;
  void* buf = dnnl_scratch(slot, dnnl_api()->dnnl_memory_desc_get_size(&r.to));
  dnnl_run(r.p->prim, {{DNNL_ARG_FROM, &r.from, ptr}, {DNNL_ARG_TO, &r.to, buf}});
  return buf;
}

// The destination buffer a primitive writes: `user` itself, or scratch `slot` to reorder from after.
void* out_buffer(const Reorder& r, void* user, int slot) {
  return r.p ? dnnl_scratch(slot, dnnl_api()->dnnl_memory_desc_get_size(&r.from)) : user;
}
void reorder_out(const Reorder& r, const void* buf, void* user) {
  if (r.p) dnnl_run(r.p->prim, {{DNNL_ARG_FROM, &r.from, buf}, {DNNL_ARG_TO, &r.to, user}});
}

struct Geometry {
  dnnl_memory_desc_t src_any, wei_any, dst_any, src_u, wei_u, dst_u;
  dnnl_dims_t strides, pad_l, pad_r;
};

Geometry geometry(const DnnlConvShape& s, bool bf16, bool f32_weights) {
  Geometry g;
  dnnl_data_type_t dt = dt_of(bf16), wdt = f32_weights ? dnnl_f32 : dt;
  std::vector<int64_t> src{s.N, s.Cin, s.H, s.W}, dst{s.N, s.Cout, s.Ho, s.Wo};
  std::vector<int64_t> wei = s.G == 1 ? std::vector<int64_t>{s.Cout, s.Cin, s.kh, s.kw}
                                      : std::vector<int64_t>{s.G, s.Cout / s.G, s.Cin / s.G, s.kh, s.kw};
  g.src_any = dnnl_md_tag(src, dt, dnnl_format_tag_any);
  g.dst_any = dnnl_md_tag(dst, dt, dnnl_format_tag_any);
  g.wei_any = dnnl_md_tag(wei, wdt, dnnl_format_tag_any);
  g.src_u = dnnl_md_tag(src, dt, dnnl_nchw);
  g.dst_u = dnnl_md_tag(dst, dt, dnnl_nchw);
  g.wei_u = dnnl_md_tag(wei, dt, s.G == 1 ? dnnl_oihw : dnnl_goihw);
  g.strides[0] = s.sh, g.strides[1] = s.sw;
  g.pad_l[0] = s.ph, g.pad_l[1] = s.pw;
  // oneDNN wants the right/bottom padding that makes (H + pl + pr - kh) / sh + 1 = Ho exactly
  g.pad_r[0] = (s.Ho - 1) * s.sh + s.kh - s.H - s.ph;
  g.pad_r[1] = (s.Wo - 1) * s.sw + s.kw - s.W - s.pw;
  return g;
}

std::string key_of(const char* what, const DnnlConvShape& s, bool bf16, bool extra) {
  std::string k = what;
  for (int64_t v : {s.N, s.Cin, s.H, s.W, s.Cout, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.G}) k += " " + std::to_string(v);
  return k + (bf16 ? " bf16" : " f32") + (extra ? " +" : "");
}

struct ConvForward {
  DnnlPrim fwd;
  dnnl_memory_desc_t bias;
  Reorder src, wei, dst;
};

std::shared_ptr<ConvForward> forward_prim(const DnnlConvShape& s, bool bf16, bool has_bias) {
  return dnnl_cached<ConvForward>(key_of("conv fwd", s, bf16, has_bias), [&] {
    const DnnlApi* api = dnnl_api();
    Geometry g = geometry(s, bf16, false);
    auto c = std::make_shared<ConvForward>();
    c->bias = dnnl_md_tag({s.Cout}, dt_of(bf16), dnnl_x);
    dnnl_convolution_desc_t d;
    dnnl_check(api->dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &g.src_any, &g.wei_any,
                                                       has_bias ? &c->bias : nullptr, &g.dst_any, g.strides, g.pad_l, g.pad_r),
               "convolution_forward_desc_init");
    c->fwd.build(&d, nullptr, nullptr);
    c->src = make_reorder(g.src_u, c->fwd.md(dnnl_query_src_md));
    c->wei = make_reorder(g.wei_u, c->fwd.md(dnnl_query_weights_md));
    c->dst = make_reorder(c->fwd.md(dnnl_query_dst_md), g.dst_u);
    return c;
  });
}

struct ConvBackward {
  std::shared_ptr<ConvForward> hint;  // keeps the forward descriptor alive
  DnnlPrim data, weights;
  dnnl_memory_desc_t dbias;
  Reorder data_dout, data_wei, data_dx;  // backward data
  Reorder w_dout, w_src, w_dw;           // backward weights
  bool same_dout = false;                // both want dout in one layout: reorder it once
};

std::shared_ptr<ConvBackward> backward_prim(const DnnlConvShape& s, bool bf16) {
  return dnnl_cached<ConvBackward>(key_of("conv bwd", s, bf16, false), [&] {
    const DnnlApi* api = dnnl_api();
    auto c = std::make_shared<ConvBackward>();
    c->hint = forward_prim(s, bf16, true);
    Geometry g = geometry(s, bf16, false);
    dnnl_convolution_desc_t d;
    dnnl_check(api->dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &g.src_any, &g.wei_any, &g.dst_any,
                                                             g.strides, g.pad_l, g.pad_r),
               "convolution_backward_data_desc_init");
    c->data.build(&d, nullptr, c->hint->fwd.pd);
    c->data_dout = make_reorder(g.dst_u, c->data.md(dnnl_query_diff_dst_md));
    c->data_wei = make_reorder(g.wei_u, c->data.md(dnnl_query_weights_md));
    c->data_dx = make_reorder(c->data.md(dnnl_query_diff_src_md), g.src_u);
    // weight (and bias) gradients accumulate over the batch in f32 even for bf16 operands
    Geometry gw = geometry(s, bf16, true);
    c->dbias = dnnl_md_tag({s.Cout}, dnnl_f32, dnnl_x);
    dnnl_check(api->dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &gw.src_any, &gw.wei_any, &c->dbias,
                                                                &gw.dst_any, gw.strides, gw.pad_l, gw.pad_r),
               "convolution_backward_weights_desc_init");
    c->weights.build(&d, nullptr, c->hint->fwd.pd);
    c->w_dout = make_reorder(g.dst_u, c->weights.md(dnnl_query_diff_dst_md));
    c->w_src = make_reorder(g.src_u, c->weights.md(dnnl_query_src_md));
    c->w_dw = make_reorder(c->weights.md(dnnl_query_diff_weights_md), g.wei_u);
    c->same_dout = api->dnnl_memory_desc_equal(&c->data_dout.to, &c->w_dout.to);
    return c;
  });
}

}  // namespace

bool conv2d_dnnl_forward(bool bf16, const DnnlConvShape& s, void* out, const void* x, const void* w, const void* bias) {
  const DnnlApi* api = dnnl_api();
  if (!api || (bf16 && !api->bf16) || s.N == 0) return false;
  auto c = forward_prim(s, bf16, bias != nullptr);
  const void* src = reorder_in(c->src, x, 0);
  const void* wei = reorder_in(c->wei, w, 1);
  void* dst = out_buffer(c->dst, out, 2);
  const dnnl_memory_desc_t& smd = c->fwd.md(dnnl_query_src_md);
  const dnnl_memory_desc_t& wmd = c->fwd.md(dnnl_query_weights_md);
  const dnnl_memory_desc_t& dmd = c->fwd.md(dnnl_query_dst_md);
  if (bias)
    dnnl_run(c->fwd.prim, {{DNNL_ARG_SRC, &smd, src}, {DNNL_ARG_WEIGHTS, &wmd, wei}, {DNNL_ARG_BIAS, &c->bias, bias}, {DNNL_ARG_DST, &dmd, dst}});
  else
    dnnl_run(c->fwd.prim, {{DNNL_ARG_SRC, &smd, src}, {DNNL_ARG_WEIGHTS, &wmd, wei}, {DNNL_ARG_DST, &dmd, dst}});
  reorder_out(c->dst, dst, out);
  return true;
}

bool conv2d_dnnl_backward(bool bf16, const DnnlConvShape& s, void* dx, void* dw, void* dbias, const void* dout, const void* x,
                          const void* w) {
  const DnnlApi* api = dnnl_api();
  if (!api || (bf16 && !api->bf16) || s.N == 0) return false;
  auto c = backward_prim(s, bf16);
  const void* dy_data = nullptr;
  if (dx) {
    dy_data = reorder_in(c->data_dout, dout, 0);
    const void* wei = reorder_in(c->data_wei, w, 1);
    void* dsrc = out_buffer(c->data_dx, dx, 2);
    dnnl_run(c->data.prim, {{DNNL_ARG_DIFF_DST, &c->data.md(dnnl_query_diff_dst_md), dy_data},
                            {DNNL_ARG_WEIGHTS, &c->data.md(dnnl_query_weights_md), wei},
                            {DNNL_ARG_DIFF_SRC, &c->data.md(dnnl_query_diff_src_md), dsrc}});
    reorder_out(c->data_dx, dsrc, dx);
  }
  if (dw || dbias) {
    const void* dy = dy_data && c->same_dout ? dy_data : reorder_in(c->w_dout, dout, 0);
    const void* src = reorder_in(c->w_src, x, 1);
    // the weight gradient in f32, in oneDNN's layout (scratch) or the caller's when that is f32 and plain;
    // its reorder to the caller's layout also rounds to bf16
    void* dwei = dw ? out_buffer(c->w_dw, dw, 2) : dnnl_scratch(2, c->weights.bytes(dnnl_query_diff_weights_md));
    float* db = static_cast<float*>(dnnl_scratch(3, sizeof(float) * s.Cout));
    dnnl_run(c->weights.prim, {{DNNL_ARG_SRC, &c->weights.md(dnnl_query_src_md), src},
                               {DNNL_ARG_DIFF_DST, &c->weights.md(dnnl_query_diff_dst_md), dy},
                               {DNNL_ARG_DIFF_WEIGHTS, &c->weights.md(dnnl_query_diff_weights_md), dwei},
                               {DNNL_ARG_DIFF_BIAS, &c->dbias, db}});
    if (dw) reorder_out(c->w_dw, dwei, dw);
    if (dbias) {
      if (bf16)
        for (int64_t i = 0; i < s.Cout; ++i) static_cast<uint16_t*>(dbias)[i] = f32_to_bf16(db[i]);
      else
        std::memcpy(dbias, db, sizeof(float) * s.Cout);
    }
  }
  return true;
}

#else

bool conv2d_dnnl_forward(bool, const DnnlConvShape&, void*, const void*, const void*, const void*) { return false; }
bool conv2d_dnnl_backward(bool, const DnnlConvShape&, void*, void*, void*, const void*, const void*, const void*) { return false; }

#endif

}  // namespace tr
