// size_bucket.h: the size buckets of both caching allocators (host memory: core/host_cache.cpp; device
// memory: cuda/device.cu): multiples of `granule` bytes up to 1 MiB, then 8 steps per power of two (at
// most 12.5% over the request), so that a loop asking for the same sizes gets the same blocks back.
#pragma once
#include <algorithm>
#include <cstddef>

namespace tr {

inline size_t size_bucket(size_t n, size_t granule) {
  if (n <= (size_t{1} << 20)) return (std::max<size_t>(n, 1) + granule - 1) / granule * granule;
  size_t p = size_t{1} << (63 - __builtin_clzll(static_cast<unsigned long long>(n)));
  size_t step = p / 8;
  return (n + step - 1) / step * step;
}

}  // namespace tr
