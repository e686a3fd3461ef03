// storage.cpp: host allocation (through the caching allocator of core/host_cache) and the device-memory
// hooks of native/cuda.
#include "core/storage.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "core/errors.h"
#include "core/host_cache.h"

namespace tr {

// Provided by native/cuda/device.cu when compiled with CUDA, else by the stubs below.
void* cuda_alloc(size_t bytes);
void cuda_free(void* p);
void cuda_memset_zero(void* p, size_t bytes);

namespace {
struct Counter {
  std::atomic<int64_t> live{0}, peak{0}, buffers{0};
  void add(int64_t b) {
    int64_t now = live.fetch_add(b) + b;
    int64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    buffers.fetch_add(b >= 0 ? 1 : -1);
  }
};
Counter g_counters[2];
}  // namespace

MemoryStats memory_stats(Device d) {
  auto& c = g_counters[static_cast<int>(d)];
  return {c.live.load(), c.peak.load(), c.buffers.load()};
}

void reset_peak(Device d) {
  auto& c = g_counters[static_cast<int>(d)];
  c.peak.store(c.live.load());
}

Storage::Storage(size_t bytes, Device device, bool zero) : bytes_(bytes), device_(device) {
  size_t n = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
  if (device == Device::CPU) {
    // A request beyond the machine's physical memory fails here, cleanly, instead of being
    // granted by overcommit and ending in the kernel's OOM killer when its pages are touched.
    static const double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    if (phys > 0 && static_cast<double>(n) > phys)
      fail(ErrorCode::OUT_OF_MEMORY, "Could not allocate ", bytes, " bytes of host memory (the machine has ", static_cast<int64_t>(phys), " bytes)");
    data_ = host_alloc(n);
    if (!data_) fail(ErrorCode::OUT_OF_MEMORY, "Could not allocate ", bytes, " bytes of host memory");
    if (zero) std::memset(data_, 0, n);
  } else {
    data_ = cuda_alloc(n);
    if (zero) cuda_memset_zero(data_, n);
  }
  g_counters[static_cast<int>(device)].add(static_cast<int64_t>(bytes));
}

Storage::~Storage() {
  if (device_ == Device::CPU) host_free(data_, bytes_ == 0 ? 64 : (bytes_ + 63) / 64 * 64);
  else cuda_free(data_);
  g_counters[static_cast<int>(device_)].add(-static_cast<int64_t>(bytes_));
}

#ifndef TR_HAVE_CUDA
void* cuda_alloc(size_t) {
  fail(ErrorCode::CUDA_UNAVAILABLE, "CUDA is not available: this build of treereward has no CUDA support (nvcc was not found when it was built)");
}
void cuda_free(void*) {}
void cuda_memset_zero(void*, size_t) {}
#endif

}  // namespace tr
