// device.cu: CUDA device plumbing: the current stream, the caching allocator (size-bucketed free
// lists per stream: a freed block waits in its bucket for the next request of that size, so ops do
// not call cudaMalloc), host<->device copies, device facts and what the CUDA backend supports.
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/device.h"
#include "core/ops.h"
#include "core/size_bucket.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_ops.h"

namespace tr {

namespace {
int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

// Bucket of a request: multiples of 512 bytes up to 1 MiB, then the shared steps (core/size_bucket.h).
// In the CUDA simulator a block is exactly what was asked, so its guard bytes catch a kernel writing even
// one element past a tensor (a rounded-up block would hide it).
#ifdef TR_CUDA_SIM
size_t bucket_size(size_t n) { return n; }
#else
size_t bucket_size(size_t n) { return size_bucket(n, 512); }
#endif

struct BlockKey {
  cudaStream_t stream;
  size_t size;
  bool operator==(const BlockKey& o) const { return stream == o.stream && size == o.size; }
};
struct BlockKeyHash {
  size_t operator()(const BlockKey& k) const { return std::hash<size_t>()(k.size) ^ (std::hash<void*>()(k.stream) << 1); }
};

class CachingAllocator {
 public:
  void* allocate(size_t asked) {
    size_t size = bucket_size(asked);
    cudaStream_t stream = cuda_stream();
    std::lock_guard<std::mutex> lock(mu_);
    auto& bucket = free_[{stream, size}];
    void* p = nullptr;
    if (caching_ && !bucket.empty()) {
      p = bucket.back();
      bucket.pop_back();
      cached_ -= static_cast<int64_t>(size);
      ++hits_;
    } else {
      // An error that is not a lack of memory (a fault left by an earlier kernel, a lost device) is no
      // reason to release the cache: it is a CUDA_ERROR, not OUT_OF_MEMORY.
      auto not_memory = [&](cudaError_t e) {
        if (e == cudaSuccess || e == cudaErrorMemoryAllocation) return;
        cudaGetLastError();
        fail(ErrorCode::CUDA_ERROR, "Could not allocate ", asked, " bytes on the GPU: ", cudaGetErrorName(e), " (", cudaGetErrorString(e),
             "), an error that is not a lack of memory; the GPU may need the process restarted");
      };
      cudaError_t err = cudaMalloc(&p, size);
      not_memory(err);
      if (err != cudaSuccess) {  // give the cache back to the driver and try once more
        cudaGetLastError();
        int64_t released = cached_;
        release_locked();
        err = cudaMalloc(&p, size);
        not_memory(err);
        if (err != cudaSuccess) {
          cudaGetLastError();
          size_t free_b = 0, total_b = 0;
          cudaMemGetInfo(&free_b, &total_b);
          cudaGetLastError();
          fail(ErrorCode::OUT_OF_MEMORY, "Could not allocate ", asked, " bytes on the GPU (", free_b, " of ", total_b,
               " bytes free): ", cudaGetErrorString(err), "; ", allocated_, " bytes are held by live tensors and ", released,
               " cached bytes were released before the retry");
        }
      }
      ++mallocs_;
      peak_reserved_ = std::max(peak_reserved_, allocated_ + static_cast<int64_t>(size) + cached_);
    }
    live_[p] = {stream, size};
    allocated_ += static_cast<int64_t>(size);
    return p;
  }

  void release(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return;
    BlockKey key = it->second;
    live_.erase(it);
    allocated_ -= static_cast<int64_t>(key.size);
    if (caching_) {
      free_[key].push_back(p);  // stream-ordered: the next op on this stream runs after every use of p
      cached_ += static_cast<int64_t>(key.size);
    } else {
      cudaFree(p);
      cudaGetLastError();
    }
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_locked();
  }

  CudaMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {allocated_, cached_, allocated_ + cached_, mallocs_, hits_, peak_reserved_};
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    peak_reserved_ = allocated_ + cached_;
  }

 private:
  void release_locked() {
    for (auto& [key, blocks] : free_)
      for (void* p : blocks) cudaFree(p);  // cudaFree waits for the device: no kernel still uses them
    cudaGetLastError();
    free_.clear();
    cached_ = 0;
  }

  std::mutex mu_;
  std::unordered_map<BlockKey, std::vector<void*>, BlockKeyHash> free_;
  std::unordered_map<void*, BlockKey> live_;
  int64_t allocated_ = 0, cached_ = 0, mallocs_ = 0, hits_ = 0, peak_reserved_ = 0;
  // TREEREWARD_CUDA_CACHE=0 turns the cache off (every free is a cudaFree), for memory debugging.
  bool caching_ = [] {
    const char* v = std::getenv("TREEREWARD_CUDA_CACHE");
    return !(v && std::string(v) == "0");
  }();
};

// Never destroyed: at process exit the CUDA runtime may already be gone.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}
}  // namespace

bool cuda_available() {
  static const bool available = device_count() > 0;
  return available;
}

std::string cuda_device_name() {
  if (!cuda_available()) return "";
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return prop.name;
}

cudaStream_t cuda_stream() {
  static cudaStream_t stream = [] {
    cudaStream_t s = nullptr;
    TR_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return s;
  }();
  return stream;
}

void cuda_sync(const char* what) {
  cudaError_t err = cudaStreamSynchronize(cuda_stream());
  if (err != cudaSuccess) {
    cudaGetLastError();
    fail(ErrorCode::CUDA_ERROR, "a kernel before ", what, " failed: ", cudaGetErrorString(err));
  }
}

void* cuda_alloc(size_t bytes) {
  if (!cuda_available())
    fail(ErrorCode::CUDA_UNAVAILABLE, "Expected a visible CUDA GPU for a cuda tensor but found none (this build has CUDA; the machine has no usable GPU)");
  return allocator().allocate(bytes);
}

void cuda_free(void* p) {
  if (p) allocator().release(p);
}

void cuda_memset_zero(void* p, size_t bytes) { TR_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda_stream())); }

CudaMemoryStats cuda_memory_stats() {
  if (!cuda_available()) return {0, 0, 0, 0, 0, 0};
  return allocator().stats();
}

void cuda_reset_peak_reserved() {
  if (cuda_available()) allocator().reset_peak();
}

void cuda_empty_cache() {
  if (cuda_available()) allocator().empty_cache();
}

Tensor to_device(const Tensor& t, Device d) {
  if (d == t.device()) return t;
  if (d == Device::CUDA) {
    Tensor src = contiguous(t);
    Tensor out = empty(src.shape(), src.dtype(), Device::CUDA);
    size_t bytes = static_cast<size_t>(src.numel()) * dtype_size(src.dtype());
    // From pageable memory the call returns once the bytes are staged, so src may be freed after it.
    if (bytes) TR_CUDA_CHECK(cudaMemcpyAsync(out.raw(), src.raw(), bytes, cudaMemcpyHostToDevice, cuda_stream()));
    return out;
  }
  Tensor src = contiguous(t);  // a cuda copy kernel when t is a view
  Tensor out = empty(src.shape(), src.dtype(), Device::CPU);
  size_t bytes = static_cast<size_t>(src.numel()) * dtype_size(src.dtype());
  if (bytes) TR_CUDA_CHECK(cudaMemcpyAsync(out.raw(), src.raw(), bytes, cudaMemcpyDeviceToHost, cuda_stream()));
  cuda_sync("a copy to the host");
  return out;
}

// What the CUDA backend computes, per op and dtype: int32 is data only (indices, targets), never computed.
bool cuda_supports(Op op, DType dtype) {
  bool floating = dtype == DType::F32 || dtype == DType::F64 || dtype == DType::BF16 || dtype == DType::F16;
  switch (op) {
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Pow:
    case Op::AddScalar: case Op::MulScalar: case Op::PowScalar: case Op::RDivScalar:
    case Op::Neg: case Op::Exp: case Op::Log: case Op::Sqrt: case Op::Abs:
    case Op::Tanh: case Op::Sigmoid: case Op::LogSigmoid: case Op::Relu: case Op::Gelu: case Op::GeluTanh:
    case Op::Silu: case Op::Geglu: case Op::Clamp: case Op::Dropout:
    case Op::Sum: case Op::Mean: case Op::Max: case Op::Softmax: case Op::LogSoftmax:
    case Op::Matmul: case Op::Linear: case Op::LayerNorm: case Op::GroupNorm: case Op::GroupNormSilu:
    case Op::Upsample2x: case Op::AvgPool2d:
    case Op::Concat: case Op::Slice: case Op::Reshape: case Op::Permute: case Op::Expand: case Op::Contiguous:
    case Op::Embedding: case Op::CrossEntropy: case Op::Mse: case Op::Cast:
    case Op::Custom: case Op::Checkpoint:  // compositions of the ops above
      return floating;
    // The fused kernels of the CUDA-backend work's second part (attention.cu, conv2d.cu, adamw.cu) add their lines here.
    case Op::Attention:  // attention.cu: float32, bfloat16, float16 up to head dim 160; float64 and larger heads composed
    case Op::Conv2d:     // conv2d.cu: cuDNN, or the implicit-GEMM kernel
      return floating;
    default:
      return false;
  }
}

}  // namespace tr
