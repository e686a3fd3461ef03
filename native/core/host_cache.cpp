// host_cache.cpp: the caching allocator of host tensor memory (see host_cache.h).
#include "core/host_cache.h"
#include "core/size_bucket.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include <unistd.h>

namespace tr {

namespace {
// Whole pages up to 1 MiB (blocks here are at least kHostCacheMin), then the shared steps.
size_t bucket_size(size_t n) { return size_bucket(n, 4096); }

int64_t default_cap() {
  if (const char* v = std::getenv("TREEREWARD_CPU_CACHE"); v && std::string(v) == "0") return 0;
  if (const char* v = std::getenv("TREEREWARD_CPU_CACHE_MB")) {
    char* end = nullptr;
    long long mb = std::strtoll(v, &end, 10);
    if (end != v && *end == '\0' && mb >= 0) return static_cast<int64_t>(mb) << 20;
  }
  double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  int64_t eighth = phys > 0 ? static_cast<int64_t>(phys / 8) : int64_t{1} << 30;
  return std::min<int64_t>(int64_t{2} << 30, eighth);
}

class HostCache {
 public:
  void* allocate(size_t bytes) {
    if (bytes < kHostCacheMin) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    size_t size = bucket_size(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= static_cast<int64_t>(size);
        ++hits_;
        return p;
      }
      ++mallocs_;
    }
    void* p = std::aligned_alloc(64, size);
    if (!p) {  // give the cache back and try once more
      host_empty_cache();
      p = std::aligned_alloc(64, size);
    }
    return p;
  }

  void release(void* p, size_t bytes) {
    if (!p) return;
    if (bytes < kHostCacheMin) return std::free(p);
    size_t size = bucket_size(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + static_cast<int64_t>(size) <= cap_) {
        free_[size].push_back(p);
        cached_ += static_cast<int64_t>(size);
        return;
      }
    }
    std::free(p);
  }

  void empty() {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks.swap(free_);
      cached_ = 0;
    }
    for (auto& [size, ps] : blocks)
      for (void* p : ps) std::free(p);
  }

  HostCacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {cached_, cap_, mallocs_, hits_};
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  int64_t cached_ = 0, mallocs_ = 0, hits_ = 0;
  const int64_t cap_ = default_cap();
};

// Never destroyed: tensors still alive when static destructors run free into it.
HostCache& cache() {
  static HostCache* c = new HostCache();
  return *c;
}
}  // namespace

void* host_alloc(size_t bytes) { return cache().allocate(bytes); }
void host_free(void* p, size_t bytes) { cache().release(p, bytes); }
void host_empty_cache() { cache().empty(); }
HostCacheStats host_cache_stats() { return cache().stats(); }

}  // namespace tr
