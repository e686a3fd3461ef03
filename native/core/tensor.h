// tensor.h: Tensor, a shared handle to (storage, shape, strides in elements, offset, dtype, device,
// autograd state). Shapes are row-major, rank 0..kMaxRank; views share storage.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/storage.h"

namespace tr {

constexpr int kMaxRank = 6;
using Shape = std::vector<int64_t>;

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& ptr() const { return impl_; }

  const Shape& shape() const;
  const Shape& strides() const;
  int64_t offset() const;
  int rank() const { return static_cast<int>(shape().size()); }
  int64_t size(int dim) const;  // negative dims count from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const StoragePtr& storage() const;

  // Element pointer at the view's offset. T must match dtype's storage width.
  template <typename T> T* data() const;
  void* raw() const;

  bool requires_grad() const;
  void set_requires_grad(bool on);
  Tensor grad() const;
  void set_grad(const Tensor& g);
  const std::shared_ptr<Node>& grad_fn() const;
  bool is_leaf() const;

  // A new handle to the same storage and view, with no autograd history.
  Tensor detach() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  StoragePtr storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::F32;
  Device device = Device::CPU;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
};

// ---- shapes ----
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);
int normalize_dim(int64_t dim, int rank, const char* what);  // throws INVALID_ARGUMENT
// Broadcast two shapes by NumPy rules; throws SHAPE_MISMATCH naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- raw construction (no autograd) ----
Tensor empty(const Shape& shape, DType dtype, Device device = Device::CPU);
Tensor zeros(const Shape& shape, DType dtype, Device device = Device::CPU);
Tensor full(const Shape& shape, double value, DType dtype, Device device = Device::CPU);
Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

// ---- raw data movement (no autograd) ----
Tensor contiguous(const Tensor& t);             // t itself when already contiguous
Tensor clone(const Tensor& t);                  // always a new contiguous buffer
Tensor cast_raw(const Tensor& t, DType dtype);  // contiguous copy in dtype (t itself when equal and contiguous)
void copy_into(const Tensor& dst, const Tensor& src);  // dst (any view) = src, same shape
double item(const Tensor& t);                   // one-element tensor -> double

// Floating-point compute type of a storage dtype: f64 stays f64, everything else computes in f32.
inline DType compute_dtype(DType d) { return d == DType::F64 ? DType::F64 : DType::F32; }

void check_float(const Tensor& t, const char* op, const char* name);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
// For ops with no CUDA kernel: NOT_SUPPORTED naming the op, dtype and device when t is not on the cpu.
void check_cpu(const Tensor& t, const char* op);

// The device an op computes on: the common device of its defined inputs (cpu when none is defined).
// Inputs on two devices throw DEVICE naming both. One comparison per input: the cpu path pays nothing more.
[[noreturn]] void fail_mixed_devices(const char* op, Device a, Device b);
inline void merge_device(const char* op, Device& d, bool& any, const Tensor& t) {
  if (!t.defined()) return;
  if (!any) {
    d = t.device();
    any = true;
  } else if (t.device() != d) {
    fail_mixed_devices(op, d, t.device());
  }
}
template <typename... Ts>
inline Device op_device(const char* op, const Ts&... ts) {
  Device d = Device::CPU;
  bool any = false;
  (merge_device(op, d, any, ts), ...);
  return d;
}
inline Device op_device(const char* op, const std::vector<Tensor>& ts) {
  Device d = Device::CPU;
  bool any = false;
  for (const auto& t : ts) merge_device(op, d, any, t);
  return d;
}

// ---- inline accessors ----
inline const Shape& Tensor::shape() const { return impl_->shape; }
inline const Shape& Tensor::strides() const { return impl_->strides; }
inline int64_t Tensor::offset() const { return impl_->offset; }
inline int64_t Tensor::numel() const { return shape_numel(impl_->shape); }
inline DType Tensor::dtype() const { return impl_->dtype; }
inline Device Tensor::device() const { return impl_->device; }
inline const StoragePtr& Tensor::storage() const { return impl_->storage; }
inline void* Tensor::raw() const {
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * static_cast<int64_t>(dtype_size(impl_->dtype));
}
template <typename T> inline T* Tensor::data() const { return static_cast<T*>(raw()); }
inline bool Tensor::requires_grad() const { return impl_->requires_grad; }
inline Tensor Tensor::grad() const { return impl_->grad; }
inline void Tensor::set_grad(const Tensor& g) { impl_->grad = g; }
inline const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl_->grad_fn; }
inline bool Tensor::is_leaf() const { return impl_->grad_fn == nullptr; }

// Calls fn with a typed zero of the compute type: TR_FLOAT_DISPATCH(dt, T, { ... uses T ... }).
#define TR_FLOAT_DISPATCH(dt, T, ...)                                                       \
  do {                                                                                      \
    switch (dt) {                                                                           \
      case ::tr::DType::F32: { using T = float; __VA_ARGS__; break; }                       \
      case ::tr::DType::F64: { using T = double; __VA_ARGS__; break; }                      \
      default: ::tr::fail(::tr::ErrorCode::DTYPE, "Expected a float32 or float64 compute type but received ", ::tr::dtype_name(dt)); \
    }                                                                                       \
  } while (0)

}  // namespace tr
