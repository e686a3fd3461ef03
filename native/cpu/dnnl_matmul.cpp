// dnnl_matmul.cpp: C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + bias (N) + beta * C through
// oneDNN's matmul, row-major with leading dimensions (transposes are strides, no copies). Operands
// float32 or bfloat16 (float32 accumulation); C float32 or bfloat16. Primitives are cached by shape.
#include "cpu/gemm.h"
#include "cpu/dnnl_runtime.h"

namespace tr {

#ifdef TR_HAVE_DNNL

namespace {
dnnl_data_type_t dnnl_type(GemmType t) { return t == GemmType::BF16 ? dnnl_bf16 : dnnl_f32; }

struct MatmulPrim {
  DnnlPrim p;
  dnnl_memory_desc_t a, b, c, bias;
};
}  // namespace

bool gemm_dnnl(GemmType ab, GemmType ct, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
               int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc, const void* bias, GemmType bias_t) {
  const DnnlApi* api = dnnl_api();
  if (!api || (ab == GemmType::BF16 && !api->bf16) || M == 0 || N == 0 || K == 0) return false;
  std::string key = "mm " + std::to_string(static_cast<int>(ab)) + std::to_string(static_cast<int>(ct)) + (ta ? "t" : "n") +
                    (tb ? "t" : "n") + " " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + " " +
                    std::to_string(lda) + "," + std::to_string(ldb) + "," + std::to_string(ldc) + " " + std::to_string(alpha) +
                    " " + std::to_string(beta) + (bias ? " b" + std::to_string(static_cast<int>(bias_t)) : "");
  auto mp = dnnl_cached<MatmulPrim>(key, [&] {
    auto m = std::make_shared<MatmulPrim>();
    m->a = dnnl_md({M, K}, dnnl_type(ab), ta ? std::vector<int64_t>{1, lda} : std::vector<int64_t>{lda, 1});
    m->b = dnnl_md({K, N}, dnnl_type(ab), tb ? std::vector<int64_t>{1, ldb} : std::vector<int64_t>{ldb, 1});
    m->c = dnnl_md({M, N}, dnnl_type(ct), {ldc, 1});
    if (bias) m->bias = dnnl_md({1, N}, dnnl_type(bias_t), {N, 1});
    dnnl_matmul_desc_t d;
    dnnl_check(api->dnnl_matmul_desc_init(&d, &m->a, &m->b, bias ? &m->bias : nullptr, &m->c), "matmul_desc_init");
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t ops;
    dnnl_check(api->dnnl_primitive_attr_create(&attr), "primitive_attr_create");
    dnnl_check(api->dnnl_post_ops_create(&ops), "post_ops_create");
    if (alpha != 1.0f) api->dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (beta != 0.0f) api->dnnl_post_ops_append_sum(ops, beta);
    api->dnnl_primitive_attr_set_post_ops(attr, ops);
    try {
      m->p.build(&d, attr, nullptr);
    } catch (...) {
      api->dnnl_post_ops_destroy(ops);
      api->dnnl_primitive_attr_destroy(attr);
      throw;
    }
    api->dnnl_post_ops_destroy(ops);
    api->dnnl_primitive_attr_destroy(attr);
    return m;
  });
  if (bias)
    dnnl_run(mp->p.prim, {{DNNL_ARG_SRC, &mp->a, A}, {DNNL_ARG_WEIGHTS, &mp->b, B}, {DNNL_ARG_BIAS, &mp->bias, bias}, {DNNL_ARG_DST, &mp->c, C}});
  else
    dnnl_run(mp->p.prim, {{DNNL_ARG_SRC, &mp->a, A}, {DNNL_ARG_WEIGHTS, &mp->b, B}, {DNNL_ARG_DST, &mp->c, C}});
  return true;
}

#else

bool gemm_dnnl(GemmType, GemmType, bool, bool, int64_t, int64_t, int64_t, float, const void*, int64_t, const void*, int64_t, float,
               void*, int64_t, const void*, GemmType) {
  return false;
}

#endif

}  // namespace tr
