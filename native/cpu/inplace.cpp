// inplace.cpp: in-place updates outside the graph (gradient accumulation, optimizer steps). On cuda:
// native/cuda/inplace.cu (fill goes through full and a copy, both device-aware).
#include "core/device.h"
#include "cpu/kernel_util.h"
#include "cpu/vec_avx512.h"

namespace tr {

namespace {
// d[i] = round(d[i] + a * s[i]) over [b, e) in bf16 (BF16) or half, float32 in between; s null: d[i] = round(a * d[i]).
// The same arithmetic as widening the whole tensor, adding in float32 and narrowing it back, in one pass.
template <bool BF16>
void lowp_rows(uint16_t* d, const uint16_t* s, float a, int64_t b, int64_t e) {
  auto widen = [](uint16_t h) { return BF16 ? bf16_to_f32(h) : f16_to_f32(h); };
  auto narrow = [](float f) { return BF16 ? f32_to_bf16(f) : f32_to_f16(f); };
  int64_t i = b;
#ifdef TR_HAVE_AVX512
  if constexpr (BF16) {
    const __m512 va = _mm512_set1_ps(a);
    for (; i + 16 <= e; i += 16) {
      __m512 x = vec::load16(d + i);
      x = s ? _mm512_fmadd_ps(va, vec::load16(s + i), x) : _mm512_mul_ps(va, x);
      vec::store16(d + i, x);
    }
  }
#endif
  for (; i < e; ++i) d[i] = narrow(s ? widen(d[i]) + a * widen(s[i]) : a * widen(d[i]));
}
}  // namespace

void add_inplace(Tensor& dst, const Tensor& src_in, double alpha) {
  check(dst.shape() == src_in.shape(), ErrorCode::SHAPE_MISMATCH, "Expected the same shape for an in-place add but received ",
        shape_str(dst.shape()), " and ", shape_str(src_in.shape()));
  check(dst.is_contiguous(), ErrorCode::INTERNAL, "in-place add needs a contiguous destination");
  Tensor src = cast_raw(src_in, dst.dtype());
#ifdef TR_HAVE_CUDA
  if (dst.device() == Device::CUDA) {
    cuda_add_inplace(dst, src.device() == Device::CUDA ? src : to_device(src, Device::CUDA), alpha);
    return;
  }
#endif
  check(src.device() == Device::CPU, ErrorCode::DEVICE, "Expected a cpu source for an in-place add into a cpu tensor but received a ",
        device_name(src.device()), " tensor");
  if (lowp(dst)) {  // one pass: widen both, d + alpha s in float32, round once (gradient accumulation into bf16 leaves)
    uint16_t* pd = static_cast<uint16_t*>(dst.raw());
    const uint16_t* ps = static_cast<const uint16_t*>(src.raw());
    float a = static_cast<float>(alpha);
    parallel_for(dst.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      if (dst.dtype() == DType::BF16) lowp_rows<true>(pd, ps, a, b, e);
      else lowp_rows<false>(pd, ps, a, b, e);
    });
    return;
  }
  TR_FLOAT_DISPATCH(dst.dtype(), T, {
    T* pd = dst.data<T>();
    const T* ps = src.data<T>();
    T a = static_cast<T>(alpha);
    parallel_for(dst.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) pd[i] += a * ps[i];
    });
  });
}

void mul_scalar_inplace(Tensor& dst, double s) {
  check(dst.is_contiguous(), ErrorCode::INTERNAL, "in-place scale needs a contiguous destination");
#ifdef TR_HAVE_CUDA
  if (dst.device() == Device::CUDA) {
    cuda_mul_scalar_inplace(dst, s);
    return;
  }
#endif
  if (lowp(dst)) {  // one pass, as add_inplace
    uint16_t* pd = static_cast<uint16_t*>(dst.raw());
    float a = static_cast<float>(s);
    parallel_for(dst.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      if (dst.dtype() == DType::BF16) lowp_rows<true>(pd, nullptr, a, b, e);
      else lowp_rows<false>(pd, nullptr, a, b, e);
    });
    return;
  }
  TR_FLOAT_DISPATCH(dst.dtype(), T, {
    T* pd = dst.data<T>();
    T a = static_cast<T>(s);
    parallel_for(dst.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) pd[i] *= a;
    });
  });
}

void fill_inplace(Tensor& dst, double value) {
  Tensor f = full(dst.shape(), value, dst.dtype(), dst.device());
  copy_into(dst, f);
}

double sum_of_squares(const Tensor& a_in) {
#ifdef TR_HAVE_CUDA
  if (a_in.device() == Device::CUDA) return cuda_sum_of_squares(contiguous(a_in));
#endif
  Tensor a = cast_raw(a_in, compute_dtype(a_in.dtype()));
  double total = 0;
  TR_FLOAT_DISPATCH(a.dtype(), T, {
    const T* p = a.data<T>();
    int64_t n = a.numel();
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(p[i]) * p[i];
  });
  return total;
}

}  // namespace tr
