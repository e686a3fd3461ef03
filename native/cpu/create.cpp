// create.cpp: arange and the counter-based random numbers (randn, rand).
// Element i of a draw at (seed, offset) is a pure function of (seed, offset + i): the same numbers
// for the same seed on every machine and every thread count.
#include "core/rng.h"
#include "cpu/kernel_util.h"

namespace tr {

Tensor arange(double start, double end, double step, DType dtype) {
  check(step != 0, ErrorCode::INVALID_ARGUMENT, "Expected a non-zero step for arange but received 0");
  double n = std::ceil((end - start) / step);
  int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
  Tensor out = empty({count}, dtype);
  if (dtype == DType::I32) {
    int32_t* p = out.data<int32_t>();
    for (int64_t i = 0; i < count; ++i) p[i] = static_cast<int32_t>(start + step * static_cast<double>(i));
    return out;
  }
  Tensor f = empty({count}, DType::F64);
  double* p = f.data<double>();
  for (int64_t i = 0; i < count; ++i) p[i] = start + step * static_cast<double>(i);
  return cast_raw(f, dtype);
}

namespace {
template <typename Gen>
Tensor draw(const Shape& shape, DType dtype, Gen gen) {
  check(is_float(dtype), ErrorCode::DTYPE, "Expected a floating-point dtype for random numbers but received ", dtype_name(dtype));
  Tensor out = empty(shape, dtype == DType::F64 ? DType::F64 : DType::F32);
  TR_FLOAT_DISPATCH(out.dtype(), T, {
    T* p = out.data<T>();
    parallel_for(out.numel(), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(gen(static_cast<uint64_t>(i)));
    });
  });
  return dtype == out.dtype() ? out : cast_raw(out, dtype);
}
}  // namespace

Tensor randn(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype) {
  return draw(shape, dtype, [seed, offset](uint64_t i) { return rng_normal(seed, offset + i); });
}

Tensor rand(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype) {
  return draw(shape, dtype, [seed, offset](uint64_t i) { return rng_uniform(seed, offset + i, 0); });
}

}  // namespace tr
