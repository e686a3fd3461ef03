// host_cache.h: the caching allocator of host (CPU) tensor memory. A training step frees and asks
// again for the same large buffers every step; handed back to the C library they return to the
// kernel (mmap'd chunks are unmapped, the heap's top is trimmed) and every reuse faults in freshly
// zeroed pages: a sixth of a UNet step's time here went to the kernel's clear_page. The cache keeps
// freed blocks of at least kHostCacheMin bytes in size buckets (core/size_bucket.h, shared with the
// cuda allocator) and hands them back for the next request of that bucket.
//   - at most a cap of cached bytes (TREEREWARD_CPU_CACHE_MB, default min(2 GiB, physical memory / 8));
//     a block freed beyond the cap goes back to the C library;
//   - TREEREWARD_CPU_CACHE=0 turns it off (every free is a free(), for memory debugging);
//   - an allocation that fails releases the cache and tries once more;
//   - host_empty_cache() (emptyCache("cpu") in JS) gives every cached block back.
// memoryStats("cpu").liveBytes counts live tensors only; the cache's bytes are in cachedBytes. They are
// not reported to V8 as external memory: no garbage collection frees them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tr {

constexpr size_t kHostCacheMin = size_t{128} << 10;  // glibc's first mmap threshold: smaller blocks come from its bins

struct HostCacheStats {
  int64_t cached_bytes;  // freed blocks kept for reuse
  int64_t cap_bytes;     // the most it keeps
  int64_t mallocs;       // blocks of kHostCacheMin or more taken from the C library
  int64_t cache_hits;    // allocations served from the cache
};

// 64-byte aligned memory of at least `bytes`; nullptr when the system has none (after releasing the cache).
void* host_alloc(size_t bytes);
// Frees a block from host_alloc of the same `bytes`.
void host_free(void* p, size_t bytes);
void host_empty_cache();
HostCacheStats host_cache_stats();

}  // namespace tr
