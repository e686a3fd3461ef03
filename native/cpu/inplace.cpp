// inplace.cpp: in-place updates outside the graph (gradient accumulation, optimizer steps). On cuda:
// native/cuda/inplace.cu (fill goes through full and a copy, both device-aware).
#include "core/device.h"
#include "cpu/kernel_util.h"

namespace tr {

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
  if (lowp(dst)) {
    Tensor d32 = cast_raw(dst, DType::F32);
    add_inplace(d32, cast_raw(src, DType::F32), alpha);
    copy_into(dst, d32);
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
  if (lowp(dst)) {
    Tensor d32 = cast_raw(dst, DType::F32);
    mul_scalar_inplace(d32, s);
    copy_into(dst, d32);
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
