// tensor.cpp: shape helpers, raw construction and strided copies (no autograd here).
#include "core/tensor.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/autograd.h"
#include "core/device.h"
#include "core/thread_pool.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_ops.h"
#endif

namespace tr {

int64_t Tensor::size(int dim) const {
  int d = normalize_dim(dim, rank(), "size");
  return impl_->shape[d];
}

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (impl_->shape[i] != 1 && impl_->strides[i] != expect) return false;
    expect *= impl_->shape[i];
  }
  return true;
}

void Tensor::set_requires_grad(bool on) {
  if (on) check(is_float(impl_->dtype), ErrorCode::DTYPE, "Expected a floating-point tensor for requiresGrad but received ", dtype_name(impl_->dtype));
  check(is_leaf() || on, ErrorCode::INVALID_ARGUMENT, "Expected a leaf tensor for requiresGrad = false but received a tensor computed by ", grad_fn_name(*this), "; use detach()");
  impl_->requires_grad = on;
}

Tensor Tensor::detach() const {
  auto t = std::make_shared<TensorImpl>();
  t->storage = impl_->storage;
  t->shape = impl_->shape;
  t->strides = impl_->strides;
  t->offset = impl_->offset;
  t->dtype = impl_->dtype;
  t->device = impl_->device;
  return Tensor(std::move(t));
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int normalize_dim(int64_t dim, int rank, const char* what) {
  int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank)
    fail(ErrorCode::INVALID_ARGUMENT, "Expected a dimension in [", -rank, ", ", rank - 1, "] for ", what, " but received ", dim);
  return static_cast<int>(d);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(ErrorCode::SHAPE_MISMATCH, "Expected shapes that broadcast together for ", op, " but received ", shape_str(a), " and ", shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

static void check_shape(const Shape& shape) {
  check(shape.size() <= static_cast<size_t>(kMaxRank), ErrorCode::INVALID_ARGUMENT,
        "Expected a shape of rank at most ", kMaxRank, " but received ", shape_str(shape));
  for (auto d : shape)
    check(d >= 0, ErrorCode::INVALID_ARGUMENT, "Expected non-negative sizes for shape but received ", shape_str(shape));
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape);
  auto t = std::make_shared<TensorImpl>();
  t->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device, false);
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->dtype = dtype;
  t->device = device;
  return Tensor(std::move(t));
}

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  check_shape(shape);
  auto t = std::make_shared<TensorImpl>();
  t->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device, true);
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->dtype = dtype;
  t->device = device;
  return Tensor(std::move(t));
}

template <typename T>
static void fill_typed(T* p, int64_t n, T v) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) p[i] = v; });
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
#ifdef TR_HAVE_CUDA
  if (device == Device::CUDA) {
    cuda_fill(t, value);
    return t;
  }
#endif
  int64_t n = t.numel();
  switch (dtype) {
    case DType::F32: fill_typed(t.data<float>(), n, static_cast<float>(value)); break;
    case DType::F64: fill_typed(t.data<double>(), n, value); break;
    case DType::BF16: fill_typed(t.data<uint16_t>(), n, f32_to_bf16(static_cast<float>(value))); break;
    case DType::F16: fill_typed(t.data<uint16_t>(), n, f32_to_f16(static_cast<float>(value))); break;
    case DType::I32: fill_typed(t.data<int32_t>(), n, static_cast<int32_t>(value)); break;
  }
  return t;
}

Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  auto t = std::make_shared<TensorImpl>();
  t->storage = base.storage();
  t->shape = shape;
  t->strides = strides;
  t->offset = offset;
  t->dtype = base.dtype();
  t->device = base.device();
  return Tensor(std::move(t));
}

// Reads element i (in row-major order over `shape`) of a strided source as double / writes to dst.
namespace {
inline double load(const void* base, DType dt, int64_t i) {
  switch (dt) {
    case DType::F32: return static_cast<const float*>(base)[i];
    case DType::F64: return static_cast<const double*>(base)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(base)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(base)[i]);
    case DType::I32: return static_cast<const int32_t*>(base)[i];
  }
  return 0;
}
inline void store(void* base, DType dt, int64_t i, double v) {
  switch (dt) {
    case DType::F32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::F64: static_cast<double*>(base)[i] = v; break;
    case DType::BF16: static_cast<uint16_t*>(base)[i] = f32_to_bf16(static_cast<float>(v)); break;
    case DType::F16: static_cast<uint16_t*>(base)[i] = f32_to_f16(static_cast<float>(v)); break;
    case DType::I32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(std::lrint(v)); break;
  }
}

// One row of `inner` elements of E from src (element offset so, stride ss) to dst (dof, ds), bits as they are.
template <typename E>
inline void copy_row(char* db, int64_t dof, int64_t ds, const char* sb, int64_t so, int64_t ss, int64_t inner) {
  E* d = reinterpret_cast<E*>(db) + dof;
  const E* s = reinterpret_cast<const E*>(sb) + so;
  if (ds == 1 && ss == 1) {
    std::memcpy(d, s, sizeof(E) * static_cast<size_t>(inner));
  } else if (ss == 0) {
    const E x = *s;
    for (int64_t i = 0; i < inner; ++i) d[i * ds] = x;
  } else {
    for (int64_t i = 0; i < inner; ++i) d[i * ds] = s[i * ss];
  }
}

// One row converted element by element: dst = f(src), S and D the element types.
template <typename S, typename D, typename F>
inline void convert_row(char* db, int64_t dof, int64_t ds, const char* sb, int64_t so, int64_t ss, int64_t inner, F f) {
  D* d = reinterpret_cast<D*>(db) + dof;
  const S* s = reinterpret_cast<const S*>(sb) + so;
  if (ds == 1 && ss == 1) {
    for (int64_t i = 0; i < inner; ++i) d[i] = f(s[i]);
  } else {
    for (int64_t i = 0; i < inner; ++i) d[i * ds] = f(s[i * ss]);
  }
}

// Strided element copy with dtype conversion: dst and src have the same shape.
void strided_copy(const Tensor& dst, const Tensor& src) {
  const Shape& shape = src.shape();
  int r = src.rank();
  int64_t n = src.numel();
  if (n == 0) return;
  // Fast path: both contiguous, same dtype.
  if (dst.is_contiguous() && src.is_contiguous() && dst.dtype() == src.dtype()) {
    std::memcpy(dst.raw(), src.raw(), static_cast<size_t>(n) * dtype_size(src.dtype()));
    return;
  }
  const char* sb = static_cast<const char*>(src.storage()->data());
  char* db = static_cast<char*>(dst.storage()->data());
  DType sdt = src.dtype(), ddt = dst.dtype();
  // `inner` elements from src (element offset so, stride ss) to dst (dof, ds)
  auto run = [&](int64_t dof, int64_t ds, int64_t so, int64_t ss, int64_t inner) {
    if (sdt == ddt) {  // the same dtype: elements moved as they are (a bf16 broadcast, a permuted f16 view)
      switch (dtype_size(sdt)) {
        case 2: copy_row<uint16_t>(db, dof, ds, sb, so, ss, inner); break;
        case 4: copy_row<uint32_t>(db, dof, ds, sb, so, ss, inner); break;
        default: copy_row<uint64_t>(db, dof, ds, sb, so, ss, inner); break;
      }
    } else if (sdt == DType::F32 && ddt == DType::BF16) {  // the common casts as typed loops (vectorised where dense)
      convert_row<float, uint16_t>(db, dof, ds, sb, so, ss, inner, f32_to_bf16);
    } else if (sdt == DType::BF16 && ddt == DType::F32) {
      convert_row<uint16_t, float>(db, dof, ds, sb, so, ss, inner, bf16_to_f32);
    } else if (sdt == DType::F32 && ddt == DType::F64) {
      convert_row<float, double>(db, dof, ds, sb, so, ss, inner, [](float x) { return static_cast<double>(x); });
    } else if (sdt == DType::F64 && ddt == DType::F32) {
      convert_row<double, float>(db, dof, ds, sb, so, ss, inner, [](double x) { return static_cast<float>(x); });
    } else {
      for (int64_t i = 0; i < inner; ++i) store(db, ddt, dof + i * ds, load(sb, sdt, so + i * ss));
    }
  };
  // Both dense (a cast): one run of n elements, in chunks over the threads.
  if (dst.is_contiguous() && src.is_contiguous()) {
    parallel_for(n, 16384, [&](int64_t b, int64_t e) { run(dst.offset() + b, 1, src.offset() + b, 1, e - b); });
    return;
  }
  // Inner loop over the last dimension; outer index decomposed per row.
  int64_t inner = r == 0 ? 1 : shape[r - 1];
  int64_t rows = n / inner;
  int64_t ss = r == 0 ? 0 : src.strides()[r - 1], ds = r == 0 ? 0 : dst.strides()[r - 1];
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t so = src.offset(), dof = dst.offset(), rem = row;
      for (int d = r - 2; d >= 0; --d) {
        int64_t idx = rem % shape[d];
        rem /= shape[d];
        so += idx * src.strides()[d];
        dof += idx * dst.strides()[d];
      }
      run(dof, ds, so, ss, inner);
    }
  });
}
}  // namespace

void copy_into(const Tensor& dst, const Tensor& src) {
  check(dst.shape() == src.shape(), ErrorCode::SHAPE_MISMATCH, "Expected the same shape for copy but received ",
        shape_str(dst.shape()), " and ", shape_str(src.shape()));
  if (dst.device() == Device::CPU && src.device() == Device::CPU) {
    strided_copy(dst, src);
    return;
  }
#ifdef TR_HAVE_CUDA
  if (dst.device() == Device::CUDA && src.device() == Device::CUDA) {
    cuda_copy(dst, src);
  } else if (dst.device() == Device::CUDA) {  // host -> device: convert on the host, copy, then scatter on the device
    cuda_copy(dst, to_device(cast_raw(src, dst.dtype()), Device::CUDA));
  } else {
    strided_copy(dst, to_device(src, Device::CPU));
  }
#else
  fail(ErrorCode::CUDA_UNAVAILABLE, "Expected a build with CUDA for a copy between devices but this build of treereward has none");
#endif
}

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.dtype(), t.device());
  copy_into(out, t);
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = empty(t.shape(), t.dtype(), t.device());
  copy_into(out, t);
  return out;
}

Tensor cast_raw(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return contiguous(t);
  Tensor out = empty(t.shape(), dtype, t.device());
  copy_into(out, t);
  return out;
}

double item(const Tensor& t) {
  check(t.numel() == 1, ErrorCode::SHAPE_MISMATCH, "Expected a one-element tensor for item but received shape ", shape_str(t.shape()));
  if (t.device() != Device::CPU) return item(to_device(t, Device::CPU));
  return load(t.raw(), t.dtype(), 0);
}

void check_float(const Tensor& t, const char* op, const char* name) {
  check(t.defined(), ErrorCode::INVALID_ARGUMENT, "Expected a tensor for ", name, " of ", op, " but received none");
  check(is_float(t.dtype()), ErrorCode::DTYPE, "Expected a floating-point tensor for ", name, " of ", op, " but received ", dtype_name(t.dtype()));
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  check(a.dtype() == b.dtype(), ErrorCode::DTYPE, "Expected tensors of one dtype for ", op, " but received ",
        dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

void check_cpu(const Tensor& t, const char* op) {
  check(!t.defined() || t.device() == Device::CPU, ErrorCode::NOT_SUPPORTED, op, " is not supported on ", device_name(t.device()), " for ",
        dtype_name(t.dtype()), " yet (no ", device_name(t.device()), " kernel); move the tensors with .to('cpu')");
}

void fail_mixed_devices(const char* op, Device a, Device b) {
  fail(ErrorCode::DEVICE, "Expected the tensors of ", op, " on one device but received ", device_name(a), " and ", device_name(b),
       " tensors; move them with .to()");
}

}  // namespace tr
