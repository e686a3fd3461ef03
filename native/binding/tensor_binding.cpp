// tensor_binding.cpp: creation, data in and out, autograd controls, memory and build facts.
#include <cstring>

#include "binding/binding.h"
#include "core/device.h"
#include "core/host_cache.h"
#include "core/thread_pool.h"
#include "cpu/gemm.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_ops.h"
#endif


namespace tr::binding {

// ---- creation ----
TR_EXPORT(empty) { return wrap(info.Env(), tr::empty(shape_arg(info, 0, "shape"), dtype_arg(info, 1, "dtype"), device_arg(info, 2))); }
TR_EXPORT(zeros) { return wrap(info.Env(), tr::zeros(shape_arg(info, 0, "shape"), dtype_arg(info, 1, "dtype"), device_arg(info, 2))); }
TR_EXPORT(full) {
  Device d = device_arg(info, 3);
  Tensor t = tr::full(shape_arg(info, 0, "shape"), number_arg(info, 1, "value"), dtype_arg(info, 2, "dtype"));
  return wrap(info.Env(), d == Device::CPU ? t : to_device(t, d));
}
TR_EXPORT(arange) {
  return wrap(info.Env(), tr::arange(number_arg(info, 0, "start"), number_arg(info, 1, "end"), number_arg(info, 2, "step"), dtype_arg(info, 3, "dtype")));
}
TR_EXPORT(randn) {
  return wrap(info.Env(), tr::randn(shape_arg(info, 0, "shape"), seed_arg(info, 1, "seed"), seed_arg(info, 2, "offset"), dtype_arg(info, 3, "dtype")));
}
TR_EXPORT(rand) {
  return wrap(info.Env(), tr::rand(shape_arg(info, 0, "shape"), seed_arg(info, 1, "seed"), seed_arg(info, 2, "offset"), dtype_arg(info, 3, "dtype")));
}

// fromArray(typedArray, shape, dtype): copies and converts a Float32Array / Float64Array / Int32Array
// (or a Uint16Array holding raw bf16/f16 bits when dtype is bfloat16/float16).
TR_EXPORT(fromArray) {
  Napi::Value v = info[0];
  if (!v.IsTypedArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a typed array for data but received a non-typed-array value");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  Shape shape = shape_arg(info, 1, "shape");
  DType dt = dtype_arg(info, 2, "dtype");
  int64_t n = shape_numel(shape);
  check(static_cast<int64_t>(ta.ElementLength()) == n, ErrorCode::SHAPE_MISMATCH, "Expected ", n, " elements for data of shape ",
        shape_str(shape), " but received ", ta.ElementLength());
  const void* base = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  DType sdt;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: sdt = DType::F32; break;
    case napi_float64_array: sdt = DType::F64; break;
    case napi_int32_array: sdt = DType::I32; break;
    case napi_uint16_array:
      check(dt == DType::BF16 || dt == DType::F16, ErrorCode::DTYPE, "Expected a Uint16Array only for bfloat16 or float16 data but dtype is ", dtype_name(dt));
      sdt = dt;
      break;
    default: fail(ErrorCode::DTYPE, "Expected a Float32Array, Float64Array, Int32Array or Uint16Array for data but received another typed array");
  }
  Tensor out = tr::empty(shape, dt);
  if (n == 0) return wrap(info.Env(), out);
  if (sdt == dt) {
    std::memcpy(out.raw(), base, static_cast<size_t>(n) * dtype_size(dt));
  } else {
    Tensor tmp = tr::empty(shape, sdt);
    std::memcpy(tmp.raw(), base, static_cast<size_t>(n) * dtype_size(sdt));
    copy_into(out, tmp);
  }
  return wrap(info.Env(), out);
}

// toArray(t): Float32Array (float32/bfloat16/float16, converted), Float64Array or Int32Array.
TR_EXPORT(toArray) {
  Tensor t = tensor_arg(info, 0, "tensor");
  check(t.device() == Device::CPU, ErrorCode::DEVICE, "Expected a cpu tensor for toArray; move it with .to('cpu') first");
  DType out_dt = t.dtype() == DType::F64 ? DType::F64 : (t.dtype() == DType::I32 ? DType::I32 : DType::F32);
  Tensor c = cast_raw(t, out_dt);
  int64_t n = c.numel();
  Napi::Env env = info.Env();
  size_t bytes = static_cast<size_t>(n) * dtype_size(out_dt);
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buf.Data(), c.raw(), bytes);
  if (out_dt == DType::F64) return Napi::Float64Array::New(env, n, buf, 0);
  if (out_dt == DType::I32) return Napi::Int32Array::New(env, n, buf, 0);
  return Napi::Float32Array::New(env, n, buf, 0);
}

// rawBits(t): the storage bits of a bfloat16/float16 tensor as a Uint16Array.
TR_EXPORT(rawBits) {
  Tensor t = contiguous(tensor_arg(info, 0, "tensor"));
  check(t.dtype() == DType::BF16 || t.dtype() == DType::F16, ErrorCode::DTYPE, "Expected a bfloat16 or float16 tensor for rawBits but received ", dtype_name(t.dtype()));
  Napi::Env env = info.Env();
  size_t n = static_cast<size_t>(t.numel());
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, n * 2);
  if (n) std::memcpy(buf.Data(), t.raw(), n * 2);
  return Napi::Uint16Array::New(env, n, buf, 0, napi_uint16_array);
}

TR_EXPORT(item) { return Napi::Number::New(info.Env(), tr::item(tensor_arg(info, 0, "tensor"))); }

// ---- metadata ----
TR_EXPORT(shape) {
  const Tensor& t = tensor_arg(info, 0, "tensor");
  Napi::Array arr = Napi::Array::New(info.Env(), t.shape().size());
  for (size_t i = 0; i < t.shape().size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(t.shape()[i])));
  return arr;
}
TR_EXPORT(dtype) { return Napi::String::New(info.Env(), dtype_name(tensor_arg(info, 0, "tensor").dtype())); }
TR_EXPORT(device) { return Napi::String::New(info.Env(), device_name(tensor_arg(info, 0, "tensor").device())); }
TR_EXPORT(isContiguous) { return Napi::Boolean::New(info.Env(), tensor_arg(info, 0, "tensor").is_contiguous()); }
TR_EXPORT(isAlive) { return Napi::Boolean::New(info.Env(), handle_alive(info[0])); }
TR_EXPORT(liveHandles) { return Napi::Number::New(info.Env(), static_cast<double>(live_handles())); }

// dispose(h): drops this handle's reference; storage is freed when no view or graph holds it. A handle
// already disposed is left alone (the FinalizationRegistry may call this after dispose()).
TR_EXPORT(dispose) {
  release_handle(info[0]);
  return info.Env().Undefined();
}

TR_EXPORT(clone) { return wrap(info.Env(), tr::clone_op(tensor_arg(info, 0, "tensor"))); }
TR_EXPORT(toDevice) {
  Device d = device_arg(info, 1);
  return wrap(info.Env(), to_device(tensor_arg(info, 0, "tensor"), d));
}
TR_EXPORT(copyInto) {
  Tensor dst = tensor_arg(info, 0, "destination");
  copy_into(dst, tensor_arg(info, 1, "source"));
  return info.Env().Undefined();
}

// ---- autograd ----
TR_EXPORT(requiresGrad) { return Napi::Boolean::New(info.Env(), tensor_arg(info, 0, "tensor").requires_grad()); }
TR_EXPORT(setRequiresGrad) {
  tensor_arg(info, 0, "tensor").set_requires_grad(bool_arg(info, 1, "requiresGrad"));
  return info.Env().Undefined();
}
TR_EXPORT(grad) { return wrap(info.Env(), tensor_arg(info, 0, "tensor").grad()); }
TR_EXPORT(setGrad) {
  Tensor t = tensor_arg(info, 0, "tensor");
  Tensor g = opt_tensor_arg(info, 1, "grad");
  if (g.defined())
    check(g.shape() == t.shape() && g.dtype() == t.dtype(), ErrorCode::SHAPE_MISMATCH, "Expected a gradient of shape ", shape_str(t.shape()),
          " and dtype ", dtype_name(t.dtype()), " but received ", shape_str(g.shape()), " ", dtype_name(g.dtype()));
  t.set_grad(g.defined() ? contiguous(g) : Tensor());
  return info.Env().Undefined();
}
TR_EXPORT(isLeaf) { return Napi::Boolean::New(info.Env(), tensor_arg(info, 0, "tensor").is_leaf()); }
TR_EXPORT(gradFnName) { return Napi::String::New(info.Env(), grad_fn_name(tensor_arg(info, 0, "tensor"))); }
TR_EXPORT(detach) { return wrap(info.Env(), tensor_arg(info, 0, "tensor").detach()); }
TR_EXPORT(backward) {
  Tensor root = tensor_arg(info, 0, "tensor");
  tr::backward(root, opt_tensor_arg(info, 1, "grad"), info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}
TR_EXPORT(gradEnabled) { return Napi::Boolean::New(info.Env(), grad_enabled()); }
// setGradEnabled(on) -> the previous mode.
TR_EXPORT(setGradEnabled) {
  bool prev = grad_enabled();
  bool on = bool_arg(info, 0, "enabled");
  set_grad_enabled(on);
  return Napi::Boolean::New(info.Env(), prev);
}

// setAutocast(dtype) -> the previous autocast dtype: "float32" (off) or "bfloat16" (products in bf16, core/autograd.h).
TR_EXPORT(setAutocast) {
  DType prev = autocast_dtype();
  set_autocast_dtype(dtype_arg(info, 0, "dtype"));
  return Napi::String::New(info.Env(), dtype_name(prev));
}

// ---- machine and memory ----
// memoryStats(device = "cpu"): live tensor bytes and the caching allocator's figures (core/host_cache on
// the cpu, native/cuda/device.cu on cuda).
TR_EXPORT(memoryStats) {
  Device d = device_arg(info, 0);
  MemoryStats s = memory_stats(d);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(s.live_bytes)));
  o.Set("peakBytes", Napi::Number::New(env, static_cast<double>(s.peak_bytes)));
  o.Set("liveBuffers", Napi::Number::New(env, static_cast<double>(s.live_buffers)));
  if (d == Device::CPU) {
    HostCacheStats h = host_cache_stats();
    o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(h.cached_bytes)));
    o.Set("cacheCapBytes", Napi::Number::New(env, static_cast<double>(h.cap_bytes)));
    o.Set("mallocs", Napi::Number::New(env, static_cast<double>(h.mallocs)));
    o.Set("cacheHits", Napi::Number::New(env, static_cast<double>(h.cache_hits)));
  }
#ifdef TR_HAVE_CUDA
  if (d == Device::CUDA) {
    CudaMemoryStats c = cuda_memory_stats();
    o.Set("allocatedBytes", Napi::Number::New(env, static_cast<double>(c.allocated_bytes)));
    o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(c.cached_bytes)));
    o.Set("reservedBytes", Napi::Number::New(env, static_cast<double>(c.reserved_bytes)));
    o.Set("mallocs", Napi::Number::New(env, static_cast<double>(c.mallocs)));
    o.Set("cacheHits", Napi::Number::New(env, static_cast<double>(c.cache_hits)));
    o.Set("peakReservedBytes", Napi::Number::New(env, static_cast<double>(c.peak_reserved_bytes)));
  }
#endif
  return o;
}
// emptyCache(device = "cpu"): gives the caching allocator's freed blocks back (to the C library, or the driver).
TR_EXPORT(emptyCache) {
  Device d = device_arg(info, 0);
  if (d == Device::CPU) host_empty_cache();
#ifdef TR_HAVE_CUDA
  else cuda_empty_cache();
#endif
  return info.Env().Undefined();
}
TR_EXPORT(resetPeakMemory) {
  Device d = device_arg(info, 0);
  reset_peak(d);
#ifdef TR_HAVE_CUDA
  if (d == Device::CUDA) cuda_reset_peak_reserved();
#endif
  return info.Env().Undefined();
}
TR_EXPORT(numThreads) { return Napi::Number::New(info.Env(), num_threads()); }
TR_EXPORT(setNumThreads) {
  int64_t n = int_arg(info, 0, "threads");
  check(n >= 1 && n <= 1024, ErrorCode::INVALID_ARGUMENT, "Expected a thread count in [1, 1024] but received ", n);
  set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
TR_EXPORT(hasCuda) { return Napi::Boolean::New(info.Env(), cuda_available()); }
TR_EXPORT(buildInfo) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("blas", Napi::Boolean::New(info.Env(), gemm_uses_blas()));
#ifdef TR_HAVE_CUDA
  o.Set("cudaCompiled", Napi::Boolean::New(info.Env(), true));
#else
  o.Set("cudaCompiled", Napi::Boolean::New(info.Env(), false));
#endif
  o.Set("cudaDevice", Napi::String::New(info.Env(), cuda_device_name()));
#ifdef TR_HAVE_OPENMP
  o.Set("threading", Napi::String::New(info.Env(), "openmp"));
#else
  o.Set("threading", Napi::String::New(info.Env(), "pool"));
#endif
#ifdef TR_HAVE_CUDA
  o.Set("cudaGemm", Napi::String::New(info.Env(), cuda_gemm_backend()));
#endif
  o.Set("threads", Napi::Number::New(info.Env(), num_threads()));
  o.Set("bf16", Napi::Boolean::New(info.Env(), gemm_bf16_native()));  // native bf16 products on the cpu (what autocast uses)
  return o;
}

}  // namespace tr::binding
